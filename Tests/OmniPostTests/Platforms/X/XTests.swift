import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// X through its sandbox: chunked media upload, processing, the post, and every way it can go wrong.
@Suite struct XTests {
    static let mib: Int64 = 1_048_576
    static let meta = PublishMetadata(title: "hello from omnipost", description: "a clip", tags: ["demo"], privacy: .public, publishAt: nil, options: [:])

    func setUp(_ dir: TempDir, size: Int64, faults: SandboxState.Faults = .init()) async throws -> PlatformRig {
        try await PlatformRig.make(XPlatform.self, dir, size: size, faults: faults) { XAdapter($0, defaultPollWait: .milliseconds(200)) }
    }

    @Test func aGoodPostArrivesWholeWithItsText() async throws {
        let dir = try TempDir()
        // Strict rotation: X's refresh tokens are single-use; the client authenticates with HTTP Basic.
        let rig = try await setUp(dir, size: 9 * Self.mib + 123, faults: .init(strictRotation: true))
        try await stopping(rig.server) {
            let cps = CheckpointLog()
            let out = try await rig.deliver(Self.meta, checkpoint: { cps.add($0) })
            let videos = await rig.state.allVideos()
            #expect(videos.count == 1 && videos[0].platform == "x")
            #expect(videos[0].sha256 == (try FileHashing.sha256(path: rig.file.path)).hex)
            #expect(videos[0].title == "hello from omnipost\n\na clip\n\n#demo")
            #expect(out.remoteId == videos[0].id && out.url.hasSuffix("/x/status/" + out.remoteId))
            // The media id before any byte, each segment after it is confirmed, then finalize and the post.
            #expect(cps.all.map(\.confirmedOffset) == [0, 4 * Self.mib, 8 * Self.mib, rig.size, rig.size, rig.size])
            #expect(await rig.state.requestCounts["x.append"] == 3)
            #expect(await rig.state.requestCounts["x.tweet"] == 1)
            #expect(rig.store.refreshToken?.hasPrefix("rft.") == true)
            // An ordinary post's video is `tweet_video`; `amplify_video` is for ads.
            #expect(await rig.state.xMedia.values.map(\.category) == ["tweet_video"])
        }
    }

    @Test func finalizesCheckAfterSecsIsWaitedBeforeTheFirstStatus() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 2 * Self.mib, faults: .init(processingMs: 1500))
        try await stopping(rig.server) {
            _ = try await rig.deliver(Self.meta)
            // FINALIZE said 2 s: no STATUS came sooner, and processing was asked about at least once.
            #expect(await rig.state.requestCounts["x.status.early"] == nil)
            #expect((await rig.state.requestCounts["x.status"] ?? 0) >= 1)
            #expect(await rig.state.allVideos().count == 1)
        }
    }

    @Test func aRateLimitedAccountReadHoldsTheAccountAndWhoItIsIsAskedOnce() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 1 * Self.mib, faults: .init(rateLimitRetryAfterS: 90, rateLimitReads: 1))
        try await stopping(rig.server) {
            let t0 = Date()
            do {
                _ = try await rig.deliver(Self.meta)
                Issue.record("a 429 on /2/users/me went unnoticed")
            } catch let e as DeliveryError {
                guard case .retryAt(let when) = e.kind else { Issue.record("\(e)"); return }
                #expect(e.code == .rateLimited && e.holdsAccount && waitIsAbout(when, 90, from: t0, to: Date()))
            }
            // Two posts after it: the account's user is asked for once, not on every attempt.
            _ = try await rig.deliver(Self.meta)
            var m = Self.meta
            m.title = "another"
            _ = try await rig.deliver(m)
            #expect(await rig.state.requestCounts["x.me"] == 2)
            #expect(await rig.state.allVideos().count == 2)
            // An upload's own 429 (INIT) is that upload's wait, not the account's.
            await rig.state.setFaults(.init(rateLimitInits: 1, rateLimitRetryAfterS: 5))
            m.title = "third"
            do {
                _ = try await rig.deliver(m)
                Issue.record("a 429 on INIT went unnoticed")
            } catch let e as DeliveryError {
                #expect(e.code == .rateLimited && !e.holdsAccount)
            }
        }
    }

    @Test func aPipelineHoldsEveryDeliveryOfAnAccountWhoseReadIsRateLimited() async throws {
        let dir = try TempDir()
        // One drop, two targets on the same X account, one upload at a time.
        let config = try TestPipelines.config(
            root: dir.url,
            targets: """
                targets:
                  - x:brand
                  - name: xalt:brand
                    platform: x
                    account: brand
                """, upload: "{chunk_size: 256KiB, concurrency: 1}")
        // ffmpeg off the cooperative pool: a busy machine must not stall the other tests' sandboxes.
        let clip = try await offPool { try Clips.make(width: 540, height: 960, seconds: 2) }
        try Clips.copy(clip, to: config.paths.inbox.appendingPathComponent("held.mp4"))
        try dir.write("inbox/held.yaml", "title: held back\nprivacy: public\n")
        let t0 = Date()
        let p = try await TestPipelines.runOnce(config) { p in
            await p.sandbox!.state.setFaults(.init(rateLimitRetryAfterS: 600, rateLimitReads: 5))
        }
        try await stopping(p) {
            let deliveries = try p.context.ledger.allDeliveries()
            #expect(deliveries.count == 2)
            // The first met the 429; the other was held with it until the reset, without asking again.
            #expect(
                deliveries.allSatisfy { $0.state == .ready && $0.gate == "retry" && $0.errorCode == "rate_limited" },
                "\(deliveries.map { "\($0.state) \($0.gate ?? "") \($0.errorMessage ?? "")" })")
            #expect(deliveries.allSatisfy { ($0.notBefore ?? 0) >= t0.timeIntervalSince1970 + 590 })
            #expect(await p.sandbox!.state.requestCounts["x.me"] == 1)
            #expect(await p.sandbox!.state.allVideos().isEmpty)
        }
    }

    @Test func theSameTextAgainIsRefusedAsDuplicateContent() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 2 * Self.mib)
        try await stopping(rig.server) {
            // X refuses a post whose text it already has: permanent, in X's words.
            _ = try await rig.deliver(Self.meta)
            let before = await rig.state.requestCounts["x.tweet"] ?? 0
            do {
                _ = try await rig.deliver(Self.meta)
                Issue.record("a duplicate post was accepted")
            } catch let e as DeliveryError {
                #expect(e.kind == .permanent && e.httpStatus == 403 && e.message.contains("duplicate content"))
            }
            #expect(await rig.state.requestCounts["x.tweet"] == before + 1)
            #expect(await rig.state.allVideos().count == 1)
        }
    }

    @Test func textIsCountedAsXCountsIt() async throws {
        #expect(XText.weightedLength("hello") == 5)
        #expect(XText.weightedLength("see https://example.com/a/very/long/path/that/goes/on/and/on") == 4 + 23)
        #expect(XText.weightedLength("日本語") == 6)
        #expect(XText.weightedLength("👍🏽") == 2)
        #expect(XText.weightedLength("👨‍👩‍👧") == 2)
        #expect(XText.weightedLength("café") == 4)
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 1)
        try await stopping(rig.server) {
            var m = Self.meta
            m.title = String(repeating: "日", count: 141)
            m.description = ""
            m.tags = []
            #expect(rig.adapter.preflight(m)?.code == .textTooLong)
            m.title = String(repeating: "a", count: 280)
            #expect(rig.adapter.preflight(m) == nil)
            m.privacy = .private
            #expect(rig.adapter.preflight(m)?.code == .invalidValue)
            m.privacy = .public
            m.options["reply_settings"] = "friends"
            #expect(rig.adapter.preflight(m)?.code == .invalidValue)
        }
    }

    @Test func aPipelinePublishesToYouTubeAndX() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main, x:brand]")
        try Clips.copy(try Clips.make(width: 540, height: 960, seconds: 3.3), to: config.paths.inbox.appendingPathComponent("both.mp4"))
        try dir.write("inbox/both.yaml", "title: both ways\nprivacy: public\ntags: [omnipost]\noverrides: {x: {reply_settings: following}}\n")
        // A private clip cannot go to X, where every post is public: refused at validation, at its line.
        try Clips.copy(try Clips.make(width: 540, height: 960, seconds: 2), to: config.paths.inbox.appendingPathComponent("secret.mp4"))
        try dir.write("inbox/secret.yaml", "title: secret\nprivacy: private\n")
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let drops = try p.context.ledger.drops()
            #expect(drops.first { $0.stem == "secret" }?.reasonCode == "invalid_value")
            let deliveries = try p.context.ledger.allDeliveries()
            #expect(
                deliveries.map(\.state) == [.published, .published],
                "\(deliveries.map { $0.errorMessage ?? "" }) \(drops.map { "\($0.stem) \($0.state) \($0.reasonMessage ?? "")" })")
            let videos = await p.sandbox!.state.allVideos()
            #expect(Set(videos.map(\.platform)) == ["youtube", "x"])
            #expect(videos.first { $0.platform == "x" }?.title == "both ways\n\n#omnipost")
            #expect(videos.count == 2)
        }
    }
}
