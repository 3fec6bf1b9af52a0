import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms
import Testing

/// The real binary under a lowered `RLIMIT_NOFILE`, flooded with connections that send half a request
/// and wait: more than it has descriptors. The listener serves a capped number and closes the silent
/// ones, so the stages keep theirs — a drop still publishes, `/healthz` answers once the flood ebbs, and
/// SIGTERM ends it promptly.
@Suite struct DescriptorFloodTests {
    /// A TCP connection to 127.0.0.1:`port` that sent half a request's headers (non-blocking connect:
    /// one the server has not accepted yet waits in its backlog). Nil when the socket could not be made.
    static func halfRequest(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        return fd
    }

    static func send(_ fd: Int32, _ text: String) { _ = text.withCString { Glibc.send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) } }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CheckCommandTests.binary)), .timeLimit(.minutes(4)))
    func aFloodOfIdleConnectionsNeitherWedgesTheStagesNorSIGTERM() async throws {
        let dir = try TempDir()
        let port = try EmailAlertTests.freePort()
        let root = dir.file("p")
        let file = try dir.write(
            "p.yaml",
            """
            version: 1
            root: \(root.path)
            watch: {mode: inotify, settle: 300ms}
            sidecar: {grace: 2s}
            sandbox: embedded
            http: {listen: "127.0.0.1:\(port)"}
            \(TestPipelines.generousQuotas)
            targets: [youtube:main]
            """)
        let out = dir.file("out.log")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        // 256 descriptors, soft and hard: the flood below is twice that.
        p.arguments = ["-c", "ulimit -n 256 && exec \"$0\" run \"$1\"", CheckCommandTests.binary, file.path]
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = p.standardOutput
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        func log() -> String { (try? String(contentsOf: out, encoding: .utf8)) ?? "" }
        #expect(try await ReloadTests.until(60) { log().contains("inbox") }, "\(log())")

        var flood: [Int32] = []
        defer { flood.forEach { close($0) } }
        for _ in 0..<512 {
            guard let fd = Self.halfRequest(port: port) else { break }
            flood.append(fd)
        }
        try await Task.sleep(for: .milliseconds(500))
        for fd in flood { Self.send(fd, "GET /api/v1/drops HTTP/1.1\r\nHost: x\r\n") }
        #expect(flood.count >= 400)

        // The stages work on: a drop is taken, validated, uploaded and archived.
        let config = try PlatformRegistry.load(path: file.path)
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "during", sidecar: "title: during the flood\nprivacy: public\n", into: config)
        let ledger = try Ledger(path: config.paths.ledger.path)
        #expect(try await ReloadTests.until(120) { try ledger.drops().first?.state == .archived }, "\(log().suffix(2000))")
        #expect(!log().contains("CONTINUATION MISUSE") && !log().contains("Too many open files"), "\(log().suffix(2000))")

        // The flood ebbs (silent connections are closed by the listener; ours are closed here): /healthz answers.
        flood.forEach { close($0) }
        flood.removeAll()
        var healthy = false
        for _ in 0..<120 where !healthy {
            let r = try? await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz"), timeout: .seconds(5))
            healthy = r?.status == .ok
            if !healthy { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(healthy)
        let t0 = Date()
        kill(p.processIdentifier, SIGTERM)
        #expect(try await ReloadTests.until(30) { !p.isRunning })
        #expect(p.terminationStatus == 0 && Date().timeIntervalSince(t0) < 30)
    }
}
