import Foundation
import OmniPostCore
import Synchronization
import Testing

/// The credentials key file is whole the moment it exists: processes starting at once on one root (several
/// hosts, a daemon beside `accounts add`) all read the one key one of them made — a clean-clone run had a
/// host read it empty, while another was still writing it, and refuse to start.
@Suite struct KeyFileCreationTests {
    @Test func everyoneStartingAtOnceReadsTheOneKey() throws {
        for round in 0..<20 {
            let dir = try TempDir()
            let file = dir.file("p/secret.key")
            let results = Mutex<[Result<String, any Error>]>([])
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                let r = Result { try Sealer.load(file: file, env: "OMNIPOST_TEST_NO_SUCH_VAR").seal("x") }
                results.withLock { $0.append(r.map { _ in "ok" }) }
            }
            let all = results.withLock { $0 }
            let failed = all.compactMap { r -> String? in if case .failure(let e) = r { return "\(e)" } else { return nil } }
            #expect(failed.isEmpty, "round \(round): \(failed)")
            let text = try String(contentsOf: file, encoding: .utf8)
            #expect(text.split(separator: "\n").count == 1, "one key: \(text)")
            let left = try FileManager.default.contentsOfDirectory(atPath: dir.file("p").path).filter { $0.hasSuffix(".new") }
            #expect(left.isEmpty, "no private name left: \(left)")
            var st = stat()
            #expect(stat(file.path, &st) == 0 && st.st_mode & 0o777 == 0o600)
        }
    }

    /// Where the file system makes no hard link, the key file is created empty and written after: a process
    /// starting meanwhile waits for the key rather than refusing to start (it refused at once).
    @Test func aNewKeyFileStillBeingWrittenIsWaitedFor() throws {
        let dir = try TempDir()
        let file = dir.file("secret.key")
        let fd = open(file.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        #expect(fd >= 0)
        let key = Data((0..<32).map { UInt8($0) }).base64EncodedString() + "\n"
        let writer = Thread {
            usleep(300_000)
            _ = key.withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }
        writer.start()
        let sealer = try Sealer.load(file: file, env: "OMNIPOST_TEST_NO_SUCH_VAR")
        #expect(try sealer.open(try sealer.seal("x")) == "x")
        // An old empty file is refused at once, as before: nobody is writing it.
        let stale = dir.file("stale.key")
        #expect(FileManager.default.createFile(atPath: stale.path, contents: Data(), attributes: [.posixPermissions: 0o600]))
        #expect(utimes(stale.path, [timeval(tv_sec: 1_000_000, tv_usec: 0), timeval(tv_sec: 1_000_000, tv_usec: 0)]) == 0)
        #expect(throws: OmniError.self) { _ = try Sealer.load(file: stale, env: "OMNIPOST_TEST_NO_SUCH_VAR") }
    }
}
