import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Facebook Page Reels through the sandbox: the Page's token, start → rupload → finish, native scheduling.
@Suite struct FacebookTests {
    static let mib: Int64 = 1_048_576
    static let meta = PublishMetadata(title: "page reel", description: "for the page", tags: ["fb"], privacy: .public, publishAt: nil, options: [:])

    func setUp(_ dir: TempDir, size: Int64, faults: SandboxState.Faults = .init()) async throws -> PlatformRig {
        try await PlatformRig.make(FacebookPlatform.self, dir, size: size, faults: faults) {
            FacebookAdapter($0, poll: PollPolicy(first: .milliseconds(20), max: .milliseconds(50), perMinute: 6000))
        }
    }

    @Test func aGoodReelAndAScheduledOne() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 9 * Self.mib + 3)
        try await stopping(rig.server) {
            let cps = UploadResumeTests.Checkpoints()
            let out = try await rig.deliver(Self.meta, checkpoint: { cps.add($0) })
            let videos = await rig.state.allVideos()
            #expect(videos.count == 1 && videos[0].platform == "facebook" && videos[0].id == out.remoteId)
            #expect(videos[0].sha256 == (try FileHashing.sha256(path: rig.file.path)).hex)
            #expect(videos[0].title == "page reel" && videos[0].description == "for the page\n\n#fb" && videos[0].publishAt == nil)
            #expect(cps.all.map(\.confirmedOffset) == [0, 4 * Self.mib, 8 * Self.mib, rig.size, rig.size, rig.size])
            // Native scheduling: the Page publishes it at its time.
            var later = Self.meta
            later.description = "later"
            later.publishAt = Date().addingTimeInterval(3 * 86400)
            #expect(rig.adapter.schedulesNatively)
            _ = try await rig.deliver(later)
            #expect(await rig.state.allVideos().last?.publishAt != nil)
            later.publishAt = Date().addingTimeInterval(90 * 86400)
            #expect(rig.adapter.preflight(later)?.code == .invalidValue)
        }
    }

    @Test func cutsRestartsAndTheUncertainWindow() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 10 * Self.mib, faults: .init(failChunks: [503]))
        try await stopping(rig.server) {
            // A cut chunk goes again; nothing else does.
            _ = try await rig.deliver(Self.meta)
            #expect(await rig.state.requestCounts["facebook.rupload"] == 4)
            #expect(await rig.state.bytesReceived == rig.size)
            // A crash after the first chunk resumes from the persisted video.
            struct Crash: Error {}
            var m = Self.meta
            m.description = "second"
            let cps = UploadResumeTests.Checkpoints()
            await #expect(throws: Crash.self) {
                _ = try await rig.deliver(m, checkpoint: { cp in cps.add(cp); if cp.confirmedOffset > 0 { throw Crash() } })
            }
            let saved = try #require(cps.all.last)
            _ = try await rig.deliver(m, session: saved.session, offset: saved.confirmedOffset)
            #expect(await rig.state.requestCounts["facebook.start"] == 2)
            #expect(await rig.state.bytesReceived == 2 * rig.size)
            // A kill while `finish` is answered: reconciled from the video's status, finish not sent again.
            await rig.state.setFaults(.init(finalReplyDelayMs: 3000))
            m.description = "third"
            let cps3 = UploadResumeTests.Checkpoints()
            let third = m
            let run = Task { try await rig.deliver(third, checkpoint: { cps3.add($0) }) }
            while await rig.state.stats.finalRepliesPending == 0 { try await Task.sleep(for: .milliseconds(20)) }
            run.cancel()
            _ = await run.result
            await rig.state.setFaults(.init())
            let last = try #require(cps3.all.last)
            let out = try await rig.deliver(m, session: last.session, offset: last.confirmedOffset)
            #expect(out.reconciled)
            #expect(await rig.state.requestCounts["facebook.finish"] == 3)
            #expect(await rig.state.allVideos().count == 3)
        }
    }

    @Test func aLostFinishReplyWhileTheReelProcessesIsWaitedForNotSentAgain() async throws {
        let dir = try TempDir()
        // The reel processes for a while after `finish`; the reply to `finish` is lost (the process dies).
        let rig = try await setUp(dir, size: 3 * Self.mib, faults: .init(finalReplyDelayMs: 3000, processingMs: 4000))
        try await stopping(rig.server) {
            let cps = UploadResumeTests.Checkpoints()
            let run = Task { try await rig.deliver(Self.meta, checkpoint: { cps.add($0) }) }
            while await rig.state.stats.finalRepliesPending == 0 { try await Task.sleep(for: .milliseconds(20)) }
            run.cancel()
            _ = await run.result
            await rig.state.setFaults(.init(processingMs: 4000))
            // Resumed at once, while it still processes (publishing not started yet): its status is read and
            // waited on — `finish` is not sent a second time.
            let last = try #require(cps.all.last)
            let out = try await rig.deliver(Self.meta, session: last.session, offset: last.confirmedOffset)
            #expect(await rig.state.requestCounts["facebook.finish"] == 1)
            #expect(await rig.state.allVideos().map(\.id) == [out.remoteId])
        }
    }

    @Test func aSessionInvalidatedMidUploadIsAuthRevoked() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 9 * Self.mib)
        try await stopping(rig.server) {
            let state = rig.state
            // The user changes their password after the first chunk: every token of the session ends, and the
            // upload host answers 401 with Graph's 190.
            do {
                _ = try await rig.deliver(Self.meta, checkpoint: { cp in
                    if cp.confirmedOffset > 0 && cp.confirmedOffset < rig.size { await state.revoke(account: "facebook:brand") }
                })
                Issue.record("an invalidated session went unnoticed")
            } catch let e as DeliveryError {
                // The credentials failed, not the platform: the account needs a person, and the delivery (which
                // holds a session) waits for it rather than failing.
                #expect(e.kind == .reauthenticate && e.code == .authRevoked && e.httpStatus == 401, "\(e)")
            }
            #expect(await rig.state.allVideos().isEmpty)
        }
    }

    @Test func limitsFailuresAndTokens() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 1 * Self.mib, faults: .init(rateLimitInits: 1, rateLimitRetryAfterS: 120))
        try await stopping(rig.server) {
            let t0 = Date()
            do {
                _ = try await rig.deliver(Self.meta)
                Issue.record("a rate limit went unnoticed")
            } catch let e as DeliveryError {
                guard case .retryAt(let when) = e.kind else { Issue.record("\(e)"); return }
                #expect(e.code == .rateLimited && waitIsAbout(when, 120, from: t0, to: Date()))
            }
            await rig.state.setFaults(.init(failProcessing: "Video too short for a reel (3 s minimum)"))
            do {
                _ = try await rig.deliver(Self.meta)
                Issue.record("a failed processing went unnoticed")
            } catch let e as DeliveryError {
                #expect(e.kind == .permanent && e.message.contains("3 s minimum"))
            }
            // The user token expires: exchanged for a new long-lived one, and the Page token read again.
            await rig.state.expireAccessTokens()
            var m = Self.meta
            m.description = "after the exchange"
            _ = try await rig.deliver(m)
            #expect(rig.store.refreshToken?.hasPrefix("EAA") == true)
            #expect(await rig.state.allVideos().count == 1)
            m.privacy = .private
            #expect(rig.adapter.preflight(m)?.code == .invalidValue)
        }
    }

    @Test func aPipelinePublishesToAPageAndSchedulesNatively() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [facebook:brand]")
        try Clips.copy(try Clips.make(width: 540, height: 960, seconds: 3.3), to: config.paths.inbox.appendingPathComponent("page.mp4"))
        let at = ISO8601DateFormatter().string(from: Date().addingTimeInterval(2 * 86400))
        try dir.write("inbox/page.yaml", "title: on the page\ndescription: soon\nprivacy: public\npublish_at: \"\(at)\"\n")
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let deliveries = try p.context.ledger.allDeliveries()
            let drops = try p.context.ledger.drops()
            #expect(deliveries.map(\.state) == [.published], "\(deliveries.map { $0.errorMessage ?? "" }) \(drops.map { "\($0.state) \($0.reasonMessage ?? "")" })")
            // Handed to the Page with its time (native scheduling), not held back by OmniPost.
            let video = await p.sandbox!.state.allVideos().first
            #expect(video?.platform == "facebook" && video?.publishAt != nil)
        }
    }
}
