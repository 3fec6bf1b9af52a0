import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPlatforms
import OmniPostSandbox
import Testing

/// `first_comment:` on YouTube: posted under the video right after it, exactly once — also when the
/// comment's answer is lost (the daemon killed after the request left): the delivery is tried again,
/// finds its post whole and the comment there (`commentThreads.list`), and sends neither again.
@Suite(.serialized) struct YouTubeFirstCommentTests {
    @Test func theFirstCommentIsPostedOnceAcrossALostAnswer() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main, vimeo:main]")
        try TestPipelines.drop(
            try Clips.make(width: 320, height: 240, seconds: 1), as: "walk",
            sidecar: "title: walk\nprivacy: public\nfirst_comment: \"Thanks for watching — more on Friday!\"\n", into: config)
        let p = try await TestPipelines.runOnce(config) { pipeline in
            let s = try #require(pipeline.sandbox)
            var faults = SandboxState.Faults()
            faults.loseFollowUpReplies = 1
            await s.state.setFaults(faults)
        }
        try await stopping(p) {
            let state = p.sandbox!.state
            let deliveries = try p.context.ledger.allDeliveries()
            #expect(deliveries.allSatisfy { $0.state == .published }, "\(deliveries.map { "\($0.target) \($0.state) \($0.errorMessage ?? "")" })")
            let youtube = try #require(deliveries.first { $0.platform == "youtube" })
            let video = try #require(await state.allVideos().first { $0.platform == "youtube" })
            let comments = await state.comments(of: video.id)
            #expect(comments.map(\.text) == ["Thanks for watching — more on Friday!"], "\(comments)")
            #expect(await state.requestCounts["youtube.commentThreads.insert"] == 1)
            #expect(await state.allVideos().filter { $0.platform == "youtube" }.count == 1)
            #expect(youtube.attempts >= 2, "the lost answer made the delivery try again")
            let row = try #require(try p.context.ledger.followUp(deliveryId: youtube.id!, key: "first_comment"))
            #expect(row.state == .made && row.remoteId == comments.first?.id)
            // Vimeo takes no comment here: nothing is owed there.
            let vimeo = try #require(deliveries.first { $0.platform == "vimeo" })
            #expect(try p.context.ledger.followUps(deliveryId: vimeo.id!).isEmpty)
        }
    }

    /// A target's own first comment (`overrides: {youtube: {first_comment: …}}`) stands for the sidecar's.
    @Test func aTargetsOwnFirstCommentStandsForTheSidecars() async throws {
        let dir = try TempDir()
        try await TestPipelines.publishOnce(
            dir, targets: "youtube:main",
            sidecar: "title: walk\nfirst_comment: for everyone\noverrides:\n  youtube: {first_comment: for YouTube}\n"
        ) { p, _ in
            let video = try #require(await p.sandbox!.state.allVideos().first)
            #expect(await p.sandbox!.state.comments(of: video.id).map(\.text) == ["for YouTube"])
        }
    }
}
