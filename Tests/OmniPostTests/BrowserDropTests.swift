import Foundation
import OmniPostCore
@testable import OmniPostPipeline
import Testing

/// Drop from the browser (issue 29): the daemon, run as a process whose data segment is capped below
/// the size of the clip sent to it (`prlimit --data`), takes a 400 MiB clip over tus from tuspy in
/// 8 MiB pieces — one cut mid-piece by a closed connection, the rest resumed from the offset the server
/// keeps — and a small one through the Upload page in real Chromium; each lands in the inbox with its
/// sidecar from the form and is published by the usual pipeline, byte for byte.
@Suite struct BrowserDropTests {
    static let binary = CheckCommandTests.binary
    static let dataCap = 320 << 20
    static let bigSize = 400 << 20

    @Test(
        .enabled(if: FileManager.default.isExecutableFile(atPath: binary) && FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit")),
        .timeLimit(.minutes(6)))
    func aClipLargerThanTheDaemonsMemoryIsCutResumedAndPublished() async throws {
        guard DashboardTests.chromium, PythonServer.has("selenium"), PythonServer.has("tusclient") else {
            Issue.record("chromium, chromedriver, selenium or tuspy missing: `make test` installs them")
            return
        }
        let dir = try TempDir()
        let token = "browser-drop-token-0123456789"
        chmod(try dir.write("token", token + "\n").path, 0o600)
        let port = try EmailAlertTests.freePort()
        let nas = dir.file("nas")
        try FileManager.default.createDirectory(at: nas, withIntermediateDirectories: true)
        let pipeline = try dir.write(
            "p.yaml",
            """
            version: 1
            name: drop
            root: \(dir.file("p").path)
            watch: {mode: inotify, settle: 300ms}
            sidecar: {grace: 2s}
            http: {listen: "127.0.0.1:\(port)", token_file: \(dir.file("token").path)}
            targets: [folder:nas]
            accounts:
              folder:nas: {path: "\(nas.path)"}
            """)
        // The large clip: a real mp4 made larger by a `free` box (players skip it), so it publishes as is.
        let clip = try Clips.make(width: 320, height: 240, seconds: 1)
        var bytes = try Data(contentsOf: clip)
        let pad = Self.bigSize - bytes.count - 8
        bytes.append(contentsOf: [UInt8((pad + 8) >> 24), UInt8((pad + 8) >> 16 & 0xff), UInt8((pad + 8) >> 8 & 0xff), UInt8((pad + 8) & 0xff)] + Array("free".utf8))
        bytes.append(Data(count: pad))
        let big = dir.file("big.mp4")
        try bytes.write(to: big)
        let bigSHA = FileHashing.sha256(data: bytes)
        bytes = Data()
        let small = dir.file("small.mp4")
        try Clips.copy(try Clips.make(width: 320, height: 240, seconds: 1.2), to: small)
        let smallSHA = try FileHashing.sha256(path: small.path).hex

        // The daemon under a cap on its data segment smaller than the clip: holding the clip would fail.
        let log = dir.file("daemon.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        daemon.arguments = ["--data=\(Self.dataCap):\(Self.dataCap)", "--", Self.binary, "run", pipeline.path]
        let handle = try FileHandle(forWritingTo: log)
        daemon.standardOutput = handle
        daemon.standardError = handle
        try daemon.run()
        defer {
            if daemon.isRunning { daemon.terminate(); daemon.waitUntilExit() }
        }
        _ = try CrashTests.waitForLine(log, containing: "listening on 127.0.0.1:\(port)")
        let base = "http://127.0.0.1:\(port)"

        let r = try await offPool {
            try SandboxOfficialClientTests.run(
                PipelineConfigTests.repoRoot.appendingPathComponent("Tests/clients/browser_drop.py").path,
                [base, token, big.path, small.path, DashboardTests.artifacts.appendingPathComponent("../browser-drop").standardizedFileURL.path])
        }
        #expect(r["ok"] as? Bool == true, "\(r)")
        #expect(r["noCsrf"] as? Int == 403)
        #expect((r["badTarget"] as? String)?.contains("400") == true, "\(r["badTarget"] ?? "")")
        let piece = 8 << 20
        #expect(r["afterThree"] as? Int == 3 * piece)
        // The cut piece's bytes that arrived were kept; the next client started after them.
        let cut = r["afterCut"] as? Int ?? 0
        #expect(cut > 3 * piece && cut <= 3 * piece + (3 << 20), "\(cut)")
        #expect((r["staleOffset"] as? [Any])?.first as? Int == 409 && (r["staleOffset"] as? [Any])?.last as? String == "\(cut)", "\(r["staleOffset"] ?? "")")
        #expect(r["resumedFrom"] as? Int == cut && r["finalOffset"] as? Int == Self.bigSize)
        #expect(r["drop"] as? String == "big")
        #expect(r["pageState"] as? String == "done" && (r["pageSaid"] as? String)?.contains("in the inbox as small") == true, "\(r["pageSaid"] ?? "")")
        #expect(r["nav"] as? String == "page")
        #expect((r["foreign"] as? [Any])?.isEmpty == true)

        // Both published by the usual pipeline, byte for byte, with the sidecars the forms made.
        var published: [String: String] = [:]
        for _ in 0..<1200 where published.count < 2 {
            try await Task.sleep(for: .milliseconds(100))
            for name in files(under: nas) where !name.hasPrefix(".") && published[name] == nil {
                let size = (try? FileManager.default.attributesOfItem(atPath: nas.appendingPathComponent(name).path)[.size] as? Int) ?? 0
                if size == Self.bigSize || name.hasPrefix("small") { published[name] = try FileHashing.sha256(path: nas.appendingPathComponent(name).path).hex }
            }
        }
        #expect(published["big.mp4"] == bigSHA && published["small.mp4"] == smallSHA, "\(published)")
        #expect(daemon.isRunning, "the daemon is still up: it never held the clip")
        let archived = files(under: dir.file("p/archive"))
        let bigSidecar = try #require(archived.first { $0.hasSuffix("/big.json") })
        let sidecar = try readJSON(dir.file("p/archive").appendingPathComponent(bigSidecar))
        #expect(sidecar["title"] as? String == "Big one" && sidecar["tags"] as? [String] == ["tus", "resumed"] && sidecar["targets"] as? [String] == ["folder:nas"])
        let smallSidecar = try #require(archived.first { $0.hasSuffix("/small.json") })
        #expect(try readJSON(dir.file("p/archive").appendingPathComponent(smallSidecar))["title"] as? String == "From the browser")
        // Nothing left behind but what a finished upload keeps (its record, no bytes).
        #expect(files(under: dir.file("p/work/browser-uploads")).allSatisfy { $0.hasSuffix(".json") })
    }
}
