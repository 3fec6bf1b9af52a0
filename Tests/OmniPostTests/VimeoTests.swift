import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Vimeo through its sandbox: the video made with approach tus, bytes by tus, tags; a cut resumed from
/// the tus server's offset; an uncertain last PATCH settled by the video's upload status; a revoked
/// token, a rate limit and a deleted video classified — and Vimeo's own library against the sandbox.
@Suite struct VimeoTests {
    static let meta = PublishMetadata(title: "A walk", description: "by the sea", tags: ["sea", "walk"], privacy: .unlisted, publishAt: nil, options: [:])
    static let token = "sandbox-vimeo-token-abcdef"

    static func rig(_ dir: TempDir, size: Int, chunk: Int64 = 1 << 20) async throws -> (SandboxServer, any PlatformAdapter, URL) {
        let s = SandboxServer(root: dir.file("sandbox"))
        try await s.start()
        await s.state.registerStaticToken(token, account: "vimeo:brand")
        let text = "version: 1\nroot: \(dir.url.path)/p\nsandbox: none\ntargets: [vimeo:brand]\naccounts:\n  vimeo:brand: {endpoint: \"\(s.baseURL)\", access_token: \(token)}\n"
        let config = try PlatformRegistry.parse(text: text, file: "p.yaml", baseDirectory: dir.url)
        let account = try #require(config.accounts["vimeo:brand"])
        let settings = AdapterSettings(account: account, tokens: TokenProvider(account: account, http: HTTPClient.shared, store: TikTokTests.Store()),
                                       http: HTTPClient.shared, chunkSize: chunk, backoff: Backoff(base: .milliseconds(10), cap: .milliseconds(50)))
        let f = dir.file("walk.mp4")
        try Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ $0 >> 13) }).write(to: f)
        return (s, PlatformRegistry.makeAdapter(platform: "vimeo", settings: settings)!, f)
    }

    static func job(_ f: URL, session: String? = nil, offset: Int64 = 0) throws -> UploadJob {
        let size = try #require(try FileManager.default.attributesOfItem(atPath: f.path)[.size] as? Int64)
        var j = UploadJob(deliveryId: 1, filePath: f.path, size: size, metadata: meta, session: session, confirmedOffset: offset)
        j.expectedSha256 = try FileHashing.sha256(path: f.path).hex
        return j
    }

    @Test func aGoodPostCarriesItsWordsAndTags() async throws {
        let dir = try TempDir()
        let (s, a, f) = try await Self.rig(dir, size: 2 << 20 + 3)
        defer { Task { await s.stop() } }
        let out = try await a.deliver(try Self.job(f), checkpoint: { _ in }, progress: { _, _ in })
        let v = try #require(await s.state.allVideos().first)
        let want = try Self.job(f).expectedSha256
        #expect(v.platform == "vimeo" && v.id == out.remoteId && v.sha256 == want)
        #expect(v.title == "A walk" && v.description == "by the sea" && v.privacy == "unlisted" && v.tags == ["sea", "walk"])
        #expect(out.url == s.baseURL + "/vimeo/\(out.remoteId)")
        #expect(a.preflight(PublishMetadata(title: String(repeating: "x", count: 129), description: "", tags: [], privacy: .public, publishAt: nil, options: [:]))?.code == .textTooLong)
    }

    @Test func aCutResumesAndAnUncertainLastChunkIsSettledByTheVideo() async throws {
        let dir = try TempDir()
        let (s, a, f) = try await Self.rig(dir, size: 3 << 20 + 9)
        defer { Task { await s.stop() } }
        let seen = UploadResumeTests.Checkpoints()
        await #expect(throws: CancellationError.self) {
            _ = try await a.deliver(try Self.job(f), checkpoint: { cp in
                seen.add(cp)
                if cp.confirmedOffset >= 1 << 20 { throw CancellationError() }
            }, progress: { _, _ in })
        }
        let cp = try #require(seen.all.last)
        let out = try await a.deliver(try Self.job(f, session: cp.session, offset: cp.confirmedOffset), checkpoint: { _ in }, progress: { _, _ in })
        #expect(out.bytesSent == (3 << 20 + 9) - (1 << 20))
        let made = await s.state.vimeoVideoCount(), posted = await s.state.allVideos().count
        #expect(made == 1 && posted == 1)
        // The last PATCH made the video whole, its reply never came back: the video says complete.
        let seen2 = UploadResumeTests.Checkpoints()
        await #expect(throws: CancellationError.self) {
            _ = try await a.deliver(try Self.job(f), checkpoint: { cp in
                seen2.add(cp)
                if cp.confirmedOffset == 3 << 20 + 9 { throw CancellationError() }
            }, progress: { _, _ in })
        }
        let settled = try await a.deliver(try Self.job(f, session: seen2.all.last?.session, offset: 0), checkpoint: { _ in }, progress: { _, _ in })
        #expect(settled.reconciled && settled.bytesSent == 0)
        #expect(await s.state.vimeoVideoCount() == 2, "one video per delivery, none doubled")
    }

    @Test func refusalsAreClassified() async throws {
        let dir = try TempDir()
        let (s, a, f) = try await Self.rig(dir, size: 100_000)
        defer { Task { await s.stop() } }
        // A rate limit: waits for X-RateLimit-Reset (a date).
        await s.state.setFaults(.init(rateLimitInits: 1, rateLimitRetryAfterS: 40))
        let t0 = Date()
        let e1 = await #expect(throws: DeliveryError.self) { _ = try await a.deliver(try Self.job(f), checkpoint: { _ in }, progress: { _, _ in }) }
        let t1 = Date()
        guard case .retryAt(let at) = e1?.kind else { Issue.record("expected a wait: \(String(describing: e1))"); return }
        #expect(waitIsAbout(at, 40, from: t0, to: t1))
        // A video deleted on Vimeo while its delivery was interrupted: a new one is made.
        let seen = UploadResumeTests.Checkpoints()
        await #expect(throws: CancellationError.self) {
            _ = try await a.deliver(try Self.job(f), checkpoint: { cp in seen.add(cp); throw CancellationError() }, progress: { _, _ in })
        }
        let session = try #require(seen.all.last?.session)
        let uri = try JSONDecoder().decode(VimeoAdapter.Session.self, from: Data(session.utf8)).uri
        await s.state.deleteVimeoVideo(String(uri.split(separator: "/").last!))
        let fresh = try await a.deliver(try Self.job(f, session: session), checkpoint: { _ in }, progress: { _, _ in })
        #expect("/videos/\(fresh.remoteId)" != uri && fresh.bytesSent == 100_000)
        // A refusal of the video itself: permanent, asked once.
        await s.state.setFaults(.init(failInits: [400]))
        let e3 = await #expect(throws: DeliveryError.self) { _ = try await a.deliver(try Self.job(f), checkpoint: { _ in }, progress: { _, _ in }) }
        #expect(e3?.kind == .permanent && e3?.httpStatus == 400)
        // A revoked token: a person must make a new one; nothing is retried.
        await s.state.revoke(account: "vimeo:brand")
        let e2 = await #expect(throws: DeliveryError.self) { _ = try await a.deliver(try Self.job(f), checkpoint: { _ in }, progress: { _, _ in }) }
        #expect(e2?.kind == .reauthenticate && e2?.message.contains("make a new one") == true)
    }

    /// PyVimeo, Vimeo's own library, uploads to the sandbox unchanged (its API root pointed at it).
    @Test(.enabled(if: PythonServer.has("vimeo") && PythonServer.has("tusclient")), .timeLimit(.minutes(3)))
    func vimeosOwnLibraryUploadsToTheSandbox() async throws {
        let dir = try TempDir()
        let (s, _, f) = try await Self.rig(dir, size: 2 << 20 + 100)
        defer { Task { await s.stop() } }
        let script = PipelineConfigTests.repoRoot.appendingPathComponent("Tests/clients/vimeo_official_client.py").path
        let r = try await offPool { try SandboxOfficialClientTests.run(script, [s.baseURL, Self.token, f.path]) }
        #expect(r["status"] as? String == "complete" && r["name"] as? String == "from PyVimeo" && r["privacy"] as? String == "unlisted", "\(r.value)")
        #expect((r["uri"] as? String)?.hasPrefix("/videos/") == true)
        #expect(r["refused"] as? String == "You must provide a valid authenticated access token.", "\(r.value)")
        #expect(await s.state.postCount(sha256: try #require(try Self.job(f).expectedSha256)) == 1)
    }

    @Test(.timeLimit(.minutes(3))) func aPipelineInSandboxModePostsToVimeo() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main, vimeo:main]")
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "walk", sidecar: "title: a walk\nprivacy: public\n", into: config)
        let p = try await TestPipelines.runOnce(config)
        defer { Task { await p.close() } }
        let deliveries = try p.context.ledger.allDeliveries()
        #expect(deliveries.map(\.state) == [.published, .published], "\(deliveries.map { $0.errorMessage ?? "" })")
        #expect(await p.sandbox!.state.allVideos().contains { $0.platform == "vimeo" && $0.privacy == "anybody" })
    }
}
