import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// The `tus:` target against tuspyserver (a tus server from PyPI, independent of ours) and the
/// sandbox's tus server (checksums, cuts, expiry), and the sandbox's tus server against tuspy (the
/// widely used Python tus client).
@Suite(.serialized) struct TusTests {
    static let meta = PublishMetadata(title: "a walk", description: "", tags: [], privacy: .public, publishAt: nil, options: [:])

    final class Server: @unchecked Sendable {
        nonisolated(unsafe) static var shared: Server?
        static let lock = NSLock()
        let python: PythonServer
        let files: URL
        init() throws {
            files = FileManager.default.temporaryDirectory.appendingPathComponent("omnipost-tus-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
            python = try PythonServer(script: "tus_server.py", arguments: [files.path])
        }
        static func get() throws -> Server {
            lock.lock(); defer { lock.unlock() }
            if let s = shared { return s }
            let s = try Server()
            shared = s
            return s
        }
    }
    static var available: Bool { PythonServer.has("tuspyserver") && PythonServer.has("uvicorn") }

    static func adapter(_ url: String, chunk: Int64 = 1 << 20, extra: String = "", http: HTTPClient = .shared) throws -> any PlatformAdapter {
        let text = "version: 1\nroot: /tmp/omnipost-tus\nsandbox: none\ntargets: [tus:media]\naccounts:\n  tus:media:\n    url: \"\(url)\"\n    headers: {X-Team: video}\n" + extra
        let config = try PlatformRegistry.parse(text: text, file: "p.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
        let account = try #require(config.accounts["tus:media"])
        let settings = AdapterSettings(
            account: account, tokens: TokenProvider(account: account, http: http, store: MemoryTokenStore()),
            http: http, uploads: TestTLS.uploads(beside: http), chunkSize: chunk, backoff: Backoff(base: .milliseconds(10), cap: .milliseconds(50)))
        return PlatformRegistry.makeAdapter(platform: "tus", settings: settings)!
    }

    static func job(_ f: URL, session: String? = nil, offset: Int64 = 0) throws -> UploadJob {
        let size = try #require(try FileManager.default.attributesOfItem(atPath: f.path)[.size] as? Int64)
        var j = UploadJob(deliveryId: 2, filePath: f.path, size: size, metadata: meta, session: session, confirmedOffset: offset)
        j.expectedSha256 = try FileHashing.sha256(path: f.path).hex
        return j
    }

    static func file(_ dir: TempDir, size: Int, seed: Int = 1) throws -> URL {
        let f = dir.file("clip-\(seed).mp4")
        try Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11 &+ seed) }).write(to: f)
        return f
    }

    @Test(.enabled(if: available), .timeLimit(.minutes(3)))
    func anIndependentServerTakesItAndACutIsResumedFromItsOffset() async throws {
        let server = try Server.get()
        let dir = try TempDir()
        let f = try Self.file(dir, size: 5 << 20 + 77)
        let a = try Self.adapter(server.python.base + "/files/")
        // Cut after two confirmed chunks.
        let seen = CheckpointLog()
        await #expect(throws: CancellationError.self) {
            _ = try await a.deliver(
                try Self.job(f),
                checkpoint: { cp in
                    seen.add(cp)
                    if cp.confirmedOffset >= 2 << 20 { throw CancellationError() }
                }, progress: { _, _ in })
        }
        let cp = try #require(seen.all.last)
        #expect(cp.confirmedOffset == 2 << 20 && cp.session.contains("/files/"))
        // The restart asks the server (HEAD) and sends only the rest.
        let out = try await a.deliver(try Self.job(f, session: cp.session, offset: cp.confirmedOffset), checkpoint: { _ in }, progress: { _, _ in })
        #expect(out.bytesSent == (5 << 20 + 77) - (2 << 20))
        let id = try #require(out.remoteId.split(separator: "/").last)
        let stored = try #require(try FileManager.default.contentsOfDirectory(atPath: server.files.path).first { $0.hasPrefix(String(id)) && !$0.hasSuffix(".info") })
        #expect(try FileHashing.sha256(path: server.files.appendingPathComponent(stored).path).hex == (try Self.job(f)).expectedSha256)
        // Sent again (a lost reply): HEAD says it is complete; nothing more goes.
        let again = try await a.deliver(try Self.job(f, session: out.remoteId, offset: 0), checkpoint: { _ in }, progress: { _, _ in })
        #expect(again.reconciled && again.remoteId == out.remoteId && again.bytesSent == 0)
    }

    /// A 403 on creation is the headers the account sends (its credentials), not the file: the account
    /// needs a person, asked once.
    @Test func aForbiddenCreationAsksForTheAccountsHeaders() async throws {
        let dir = try TempDir()
        try await withSandbox(dir) { s in
            let f = try Self.file(dir, size: 100_000)
            let a = try Self.adapter(s.baseURL + "/tus/files/")
            await s.state.setFaults(.init(failInits: [403]))
            let e = await #expect(throws: DeliveryError.self) { _ = try await a.deliver(try Self.job(f), checkpoint: { _ in }, progress: { _, _ in }) }
            #expect(e?.kind == .reauthenticate && e?.httpStatus == 403)
            #expect(await s.state.requestCounts["tus.create"] == 1)
            #expect(await s.state.allVideos().isEmpty)
        }
    }

    /// tuspy, the widely used Python tus client, against the sandbox's tus server, with checksums.
    @Test(.enabled(if: PythonServer.has("tusclient")), .timeLimit(.minutes(3)))
    func tuspyUploadsToTheSandbox() async throws {
        let dir = try TempDir()
        let s = SandboxServer(root: dir.file("sandbox"))
        try await s.start()
        try await stopping(s) {
            let f = try Self.file(dir, size: 3 << 20 + 11)
            let script = PipelineConfigTests.repoRoot.appendingPathComponent("Tests/clients/tus_official_client.py").path
            let r = try await offPool { try SandboxOfficialClientTests.run(script, [s.baseURL + "/tus/files/", f.path]) }
            #expect(r["ok"] as? Bool == true, "\(r.value)")
            #expect(await s.state.postCount(sha256: try #require(try Self.job(f).expectedSha256)) == 1)
            #expect(r["resumed_offset"] as? Int == 1 << 20, "\(r.value)")
        }
    }

    @Test func settingsAreCheckedAtTheirLines() throws {
        func check(_ lines: String) -> OmniError? { AccountChecks.problem("tus:media", lines) }
        #expect(check("    url: tus.example.com/files\n")?.message.contains("not an http(s) URL") == true)
        #expect(check("    headers: {A: b}\n")?.message.contains("needs `url`") == true)
        #expect(check("    url: https://tus.example.com/files/\n    headers: {Upload-Offset: \"1\"}\n")?.message.contains("tus protocol's own") == true)
        #expect(check("    url: https://tus.example.com/files/\n") == nil)
    }
}
