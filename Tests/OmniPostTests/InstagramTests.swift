import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Instagram Reels through its sandbox: container, resumable bytes, status, publish, and what goes wrong.
@Suite struct InstagramTests {
    static let mib: Int64 = 1_048_576
    static var meta: PublishMetadata {
        var m = PublishMetadata(title: "reel time", description: "made with omnipost", tags: ["reels"], privacy: .public, publishAt: nil,
                                options: ["share_to_feed": "true", "collaborators": "alice, bob"])
        m.coverAtMs = 1500
        return m
    }

    func setUp(_ dir: TempDir, size: Int64, faults: SandboxState.Faults = .init()) async throws -> PlatformRig {
        try await PlatformRig.make(InstagramPlatform.self, dir, size: size, faults: faults) {
            InstagramAdapter($0, poll: PollPolicy(first: .milliseconds(20), max: .milliseconds(50), perMinute: 6000))
        }
    }

    @Test func aGoodReelArrivesWholeWithItsCaption() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 9 * Self.mib + 5)
        try await stopping(rig.server) {
            let cps = UploadResumeTests.Checkpoints()
            let out = try await rig.deliver(Self.meta, checkpoint: { cps.add($0) })
            let videos = await rig.state.allVideos()
            #expect(videos.count == 1 && videos[0].platform == "instagram")
            #expect(videos[0].sha256 == (try FileHashing.sha256(path: rig.file.path)).hex)
            #expect(videos[0].title == "reel time\n\nmade with omnipost\n\n#reels")
            #expect(videos[0].tags == ["alice", "bob"])   // collaborators, as a JSON array
            #expect(out.remoteId == videos[0].id && out.url.hasSuffix("/instagram/reel/" + out.remoteId))
            #expect(cps.all.map(\.confirmedOffset) == [0, 4 * Self.mib, 8 * Self.mib, rig.size, rig.size, rig.size])
            // Meta's exchange: the stored long-lived token is the newest one, not the one configured.
            #expect(rig.store.refreshToken?.hasPrefix("EAA") == true)
            let container = await rig.state.igContainers.values.first
            #expect(container?.thumbOffset == 1500 && container?.shareToFeed == true)
        }
    }

    @Test func anExpiredContainerStartsAfreshAndAnExpiredTokenIsExchanged() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 9 * Self.mib)
        try await stopping(rig.server) {
            struct Crash: Error {}
            let cps = UploadResumeTests.Checkpoints()
            await #expect(throws: Crash.self) {
                _ = try await rig.deliver(Self.meta, checkpoint: { cp in cps.add(cp); if cp.confirmedOffset > 0 { throw Crash() } })
            }
            await rig.state.expireUnfinishedUploads()
            await rig.state.expireAccessTokens()
            let saved = try #require(cps.all.last)
            _ = try await rig.deliver(Self.meta, session: saved.session, offset: saved.confirmedOffset)
            #expect(await rig.state.requestCounts["instagram.container"] == 2)
            #expect(await rig.state.requestCounts["meta.token"] == 2)
            #expect(await rig.state.allVideos().first?.sha256 == (try FileHashing.sha256(path: rig.file.path)).hex)
        }
    }

    @Test func aContainerSpentInProcessingIsMadeAgainFromTheLocalBytes() async throws {
        let dir = try TempDir()
        // 2207053 "unknown upload error": Instagram's table says to make a new container and try again.
        let rig = try await setUp(dir, size: 5 * Self.mib, faults: .init(failProcessing: "2207053"))
        try await stopping(rig.server) {
            let out = try await rig.deliver(Self.meta)
            #expect(await rig.state.requestCounts["instagram.container"] == 2)
            #expect(await rig.state.requestCounts["instagram.publish"] == 1)
            #expect(await rig.state.allVideos().map(\.id) == [out.remoteId])
            #expect(await rig.state.allVideos().first?.sha256 == (try FileHashing.sha256(path: rig.file.path)).hex)
            // Found spent when resuming (the process stopped while it processed): a new container, not a failure.
            await rig.state.setFaults(.init(failProcessing: "2207020", processingMs: 0))
            struct Crash: Error {}
            let cps = UploadResumeTests.Checkpoints()
            var m = Self.meta
            m.title = "second reel"
            await #expect(throws: Crash.self) {
                _ = try await rig.deliver(m, checkpoint: { cp in cps.add(cp); if cp.confirmedOffset == rig.size { throw Crash() } })
            }
            let saved = try #require(cps.all.last)
            _ = try await rig.deliver(m, session: saved.session, offset: saved.confirmedOffset)
            #expect(await rig.state.requestCounts["instagram.container"] == 4)
            #expect(await rig.state.allVideos().count == 2)
        }
    }

    @Test func aTokenRefusedMidUploadIsRefreshedOnceAndARevokedOneIsAuthRevoked() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 9 * Self.mib)
        try await stopping(rig.server) {
            let state = rig.state
            // The access token ends after the first chunk: the upload host's 401/190 gets a refresh and the chunk again.
            _ = try await rig.deliver(Self.meta, checkpoint: { cp in
                if cp.confirmedOffset == 4 * Self.mib { await state.expireAccessTokens() }
            })
            #expect(await rig.state.requestCounts["meta.token"] == 2)
            #expect(await rig.state.allVideos().count == 1)
            // The session invalidated (the user changed their password): auth_revoked, not a platform error.
            var m = Self.meta
            m.title = "after the password change"
            do {
                _ = try await rig.deliver(m, checkpoint: { cp in
                    if cp.confirmedOffset == 4 * Self.mib { await state.revoke(account: "instagram:brand") }
                })
                Issue.record("an invalidated session went unnoticed")
            } catch let e as DeliveryError {
                #expect(e.kind == .reauthenticate && e.code == .authRevoked, "\(e)")
            }
            #expect(await rig.state.allVideos().count == 1)
        }
    }

    @Test func everyDocumentedProcessingCodeIsEitherANewContainerOrPermanent() {
        // What the table says to retry with a new container (the container never became a post).
        for code in [2207001, 2207003, 2207006, 2207008, 2207020, 2207032, 2207052, 2207053] {
            #expect(GraphErrors.meta.action(forReason: "Error: Media upload has failed with error code \(code)") == .newContainer, "\(code)")
        }
        // The media or the account itself: a new container would fail the same way.
        for code in [2207004, 2207005, 2207009, 2207010, 2207023, 2207026, 2207028, 2207050, 2207051, 2207057] {
            #expect(GraphErrors.meta.action(forReason: "Error: Media upload has failed with error code \(code)") == .permanent, "\(code)")
        }
        // No code, or one the table does not name: not retried blindly.
        #expect(GraphErrors.meta.action(forReason: "Error: something else") == .permanent)
        #expect(GraphErrors.meta.action(forReason: "Error: code 2207999") == .permanent)
        #expect(GraphErrors.meta.explain("Error: Media upload has failed with error code 2207053").contains("unknown upload error"))
    }

    @Test func limitsProcessingFailuresAndRefusalsAreClassified() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 1 * Self.mib, faults: .init(rateLimitInits: 1, rateLimitRetryAfterS: 300))
        try await stopping(rig.server) {
            // Code 4 with the usage header: wait as long as Meta estimates.
            let t0 = Date()
            do {
                _ = try await rig.deliver(Self.meta)
                Issue.record("a rate limit went unnoticed")
            } catch let e as DeliveryError {
                guard case .retryAt(let when) = e.kind else { Issue.record("\(e)"); return }
                #expect(e.code == .rateLimited && waitIsAbout(when, 300, from: t0, to: Date()))
            }
            // 2207026 (the video format): the media's problem, permanent — a new container would fail the same.
            await rig.state.setFaults(.init(failProcessing: "2207026"))
            do {
                _ = try await rig.deliver(Self.meta)
                Issue.record("a failed processing went unnoticed")
            } catch let e as DeliveryError {
                #expect(e.kind == .permanent && e.message.contains("2207026"))
            }
            // A spent publishing limit waits (content_publishing_limit), it does not fail.
            await rig.state.setInstagramQuotaTotal(0)
            do {
                _ = try await rig.deliver(Self.meta)
                Issue.record("a spent publishing limit went unnoticed")
            } catch let e as DeliveryError {
                guard case .retryAt = e.kind else { Issue.record("\(e)"); return }
                #expect(e.code == .quotaExhausted && e.message.contains("0 of 0"))
            }
            #expect(await rig.state.allVideos().isEmpty)
            // The limit Instagram reports goes to the queue gate (as the `posts` rule's).
            await rig.state.setInstagramQuotaTotal(50)
            let reported = ReportedLimits()
            var job = rig.job(Self.meta)
            job.reportLimit = { rule, limit in reported.add("\(rule)=\(limit)") }
            _ = try await rig.adapter.deliver(job, checkpoint: { _ in }, progress: { _, _ in })
            #expect(reported.all == ["posts=50"])
            // A refusal is permanent and asked once: a caption Instagram refuses (had validation not caught it).
            await rig.state.setInstagramQuotaTotal(100)
            let before = await rig.state.requestCounts["instagram.container"] ?? 0
            var long = Self.meta
            long.description = String(repeating: "y", count: 2300)
            do {
                _ = try await rig.deliver(long)
                Issue.record("a refused caption went unnoticed")
            } catch let e as DeliveryError {
                #expect(e.kind == .permanent && e.message.contains("2207010"), "\(e)")
            }
            #expect(await rig.state.requestCounts["instagram.container"] == before + 1)
            var m = Self.meta
            m.privacy = .unlisted
            #expect(rig.adapter.preflight(m)?.code == .invalidValue)
            m = Self.meta
            m.tags = (0..<31).map { "t\($0)" }
            #expect(rig.adapter.preflight(m)?.code == .textTooLong)
            m = Self.meta
            m.options["collaborators"] = "a,b,c,d"
            #expect(rig.adapter.preflight(m)?.code == .invalidValue)
        }
    }

    @Test func aPipelinePublishesToYouTubeAndInstagram() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main, instagram:brand]")
        try Clips.copy(try Clips.make(width: 540, height: 960, seconds: 3.3), to: config.paths.inbox.appendingPathComponent("reel.mp4"))
        try dir.write("inbox/reel.yaml", "title: a reel\nprivacy: public\ncover: {at_ms: 1000}\noverrides: {instagram: {share_to_feed: false}}\n")
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let deliveries = try p.context.ledger.allDeliveries()
            let drops = try p.context.ledger.drops()
            #expect(deliveries.map(\.state) == [.published, .published], "\(deliveries.map { $0.errorMessage ?? "" }) \(drops.map { "\($0.state) \($0.reasonMessage ?? "")" })")
            let videos = await p.sandbox!.state.allVideos()
            #expect(Set(videos.map(\.platform)) == ["youtube", "instagram"])
            let container = await p.sandbox!.state.igContainers.values.first
            #expect(container?.shareToFeed == false && container?.thumbOffset == 1000)
        }
    }
}

final class ReportedLimits: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
