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
        var m = PublishMetadata(
            title: "reel time", description: "made with omnipost", tags: ["reels"], privacy: .public, publishAt: nil,
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
            let cps = CheckpointLog()
            let out = try await rig.deliver(Self.meta, checkpoint: { cps.add($0) })
            let videos = await rig.state.allVideos()
            #expect(videos.count == 1 && videos[0].platform == "instagram")
            #expect(videos[0].sha256 == (try FileHashing.sha256(path: rig.file.path)).hex)
            #expect(videos[0].title == "reel time\n\nmade with omnipost\n\n#reels")
            #expect(videos[0].tags == ["alice", "bob"])  // collaborators, as a JSON array
            #expect(out.remoteId == videos[0].id && out.url.hasSuffix("/instagram/reel/" + out.remoteId))
            #expect(cps.all.map(\.confirmedOffset) == [0, 4 * Self.mib, 8 * Self.mib, rig.size, rig.size, rig.size])
            // Meta's exchange: the stored long-lived token is the newest one, not the one configured.
            #expect(rig.store.refreshToken?.hasPrefix("EAA") == true)
            let container = await rig.state.igContainers.values.first
            #expect(container?.thumbOffset == 1500 && container?.shareToFeed == true)
        }
    }

    /// A container spent in processing while the process was down (2207020, "the media expired"), found
    /// so when resuming: a new container from the local bytes, not a failure. (Spent while the attempt
    /// waits is the conformance suite's retryable processing case.)
    @Test func aContainerFoundSpentWhenResumingIsMadeAgainFromTheLocalBytes() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 5 * Self.mib, faults: .init(failProcessing: "2207020"))
        try await stopping(rig.server) {
            struct Crash: Error {}
            let cps = CheckpointLog()
            var m = Self.meta
            m.title = "second reel"
            await #expect(throws: Crash.self) {
                _ = try await rig.deliver(
                    m,
                    checkpoint: { cp in
                        cps.add(cp); if cp.confirmedOffset == rig.size { throw Crash() }
                    })
            }
            let saved = try #require(cps.all.last)
            _ = try await rig.deliver(m, session: saved.session, offset: saved.confirmedOffset)
            #expect(await rig.state.requestCounts["instagram.container"] == 2)
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

    @Test func publishingLimitsAndPreflightAreInstagrams() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 1 * Self.mib)
        try await stopping(rig.server) {
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
        try await TestPipelines.publishOnce(
            dir, targets: "youtube:main, instagram:brand", clip: try Clips.make(width: 540, height: 960, seconds: 3.3), stem: "reel",
            sidecar: "title: a reel\nprivacy: public\ncover: {at_ms: 1000}\noverrides: {instagram: {share_to_feed: false}}\n"
        ) { p, _ in
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
