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
            let cps = CheckpointLog()
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

    @Test func aLostFinishReplyWhileTheReelProcessesIsWaitedForNotSentAgain() async throws {
        let dir = try TempDir()
        // The reel processes for a while after `finish`; the reply to `finish` is lost (the process dies).
        let rig = try await setUp(dir, size: 3 * Self.mib, faults: .init(finalReplyDelayMs: 3000, processingMs: 4000))
        try await stopping(rig.server) {
            let cps = CheckpointLog()
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
                _ = try await rig.deliver(
                    Self.meta,
                    checkpoint: { cp in
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

    @Test func anExpiredUserTokenIsExchangedForANewLongLivedOne() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 1 * Self.mib)
        try await stopping(rig.server) {
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
        let at = ISO8601DateFormatter().string(from: Date().addingTimeInterval(2 * 86400))
        try await TestPipelines.publishOnce(
            dir, targets: "facebook:brand", clip: try Clips.make(width: 540, height: 960, seconds: 3.3), stem: "page",
            sidecar: "title: on the page\ndescription: soon\nprivacy: public\npublish_at: \"\(at)\"\n"
        ) { p, _ in
            // Handed to the Page with its time (native scheduling), not held back by OmniPost.
            let video = await p.sandbox!.state.allVideos().first
            #expect(video?.platform == "facebook" && video?.publishAt != nil)
        }
    }
}
