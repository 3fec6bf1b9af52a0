import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import OmniPostPlatforms
import OmniPostSandbox
import Testing

/// What a model writes beyond the title: a first comment (`ai: {first_comment: true}`) for each target
/// whose platform takes one, held to that platform's comment limit like the sidecar's own (over it, the
/// model's comment is dropped with a note and the drop goes on); and `review: true`, which holds the drop
/// in the approval gate until a person accepts or edits the text — here through `omnipost approve --title`.
@Suite struct CaptionReviewTests {
    @Test(.timeLimit(.minutes(4))) func theModelWritesTheFirstCommentWhereThePlatformTakesOne() async throws {
        let dir = try TempDir()
        try await TestPipelines.publishOnce(
            dir, targets: "youtube:main, tiktok:main", extra: CaptionWriterTests.captions, clip: try Clips.make(width: 720, height: 1280, seconds: 4),
            sidecar: "title: Morning walk\nprivacy: private\nai: {first_comment: true}\n"
        ) { p, deliveries in
            let youtube = try #require(deliveries.first { $0.platform == "youtube" })
            let meta = try JSONCoding.decoder().decode(PublishMetadata.self, from: Data(youtube.metadataJson.utf8))
            #expect(meta.writer?.wrote == ["first_comment"], "\(String(describing: meta.writer))")
            let video = try #require(await p.sandbox!.state.allVideos().first { $0.platform == "youtube" })
            #expect(await p.sandbox!.state.comments(of: video.id).map(\.text) == ["Thanks for watching \"Morning walk\" — what should we film next?"])
            // TikTok takes no comment: it was not asked for one, and owes none.
            let tiktok = try #require(deliveries.first { $0.platform == "tiktok" })
            #expect(try p.context.ledger.followUps(deliveryId: tiktok.id!).isEmpty)
            let asked = try p.context.ledger.writtenText(dropId: tiktok.dropId, target: tiktok.target)
            #expect(asked == nil, "nothing to ask TikTok's model for")
        }
    }

    /// A model's comment over the platform's limit (X: 280 weighted) is not used; the drop is published
    /// without it, and the note says why.
    @Test(.timeLimit(.minutes(4))) func aCommentOverTheLimitIsDroppedWithANote() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, extra: CaptionWriterTests.captions, targets: "targets: [x:main]")
        try TestPipelines.drop(
            try Clips.make(width: 720, height: 1280, seconds: 4), as: "walk", sidecar: "title: Morning walk\nprivacy: public\nai: {first_comment: true}\n",
            into: config)
        let long = String(repeating: "very long comment ", count: 30)
        let p = try await TestPipelines.runOnce(config) { pipeline in
            var faults = SandboxState.Faults()
            faults.chatAnswers = [#"{"first_comment": "\#(long)"}"#]
            await pipeline.sandbox!.state.setFaults(faults)
        }
        try await stopping(p) {
            let d = try #require(try p.context.ledger.allDeliveries().first)
            #expect(d.state == .published, "\(d.errorMessage ?? "")")
            let meta = try JSONCoding.decoder().decode(PublishMetadata.self, from: Data(d.metadataJson.utf8))
            #expect(
                meta.writer?.wrote == [] && meta.writer?.note?.contains("first_comment") == true && meta.writer?.note?.contains("280") == true, "\(String(describing: meta.writer))"
            )
            #expect(try p.context.ledger.followUps(deliveryId: d.id!).isEmpty)
            #expect(await p.sandbox!.state.said(under: d.remoteId ?? "", on: "x").isEmpty)
        }
    }

    /// `ai: {title: true, review: true}`: the drop waits after conversion with nothing sent; `omnipost
    /// approve --title` (the binary, another process) puts a person's title in place of the model's.
    @Test(.timeLimit(.minutes(6))) func reviewHoldsTheDropUntilAPersonApprovesThroughTheCLI() async throws {
        let dir = try TempDir()
        let text = """
            version: 1
            name: test
            root: \(dir.url.path)
            watch: {mode: inotify, settle: 200ms}
            sidecar: {grace: 1s, missing: fail}
            sandbox: embedded
            upload: {chunk_size: 256KiB, concurrency: 2}
            \(TestPipelines.generousQuotas)
            \(CaptionWriterTests.captions)
            targets: [x:main]
            """
        let file = try dir.write("pipeline.yaml", text)
        let config = try PipelineConfig.parse(text: text, file: file.path, baseDirectory: dir.url)
        try TestPipelines.drop(
            try Clips.make(width: 720, height: 1280, seconds: 4), as: "walk", sidecar: "title: Morning walk\nprivacy: public\nai: {title: true, review: true}\n",
            into: config)
        let p = try await ApprovalTests.open(config)
        try await running(p) {
            let ledger = p.context.ledger
            let held = try await ApprovalTests.waiting(ledger, "walk.mp4")
            #expect(await p.sandbox!.state.allVideos().isEmpty)
            let waiting = try #require(try ledger.awaitingApproval(dropId: held.id).first)
            #expect(try waiting.metadata.title == "Watch: Morning walk", "the model's title is what a person sees")
            let cli = try CheckCommandTests.run(["approve", file.path, held.id, "--title", "Morning walk, as I want it"])
            #expect(cli.status == 0, "\(cli.out)")
            let done = try await RetryTests.until(seconds: 180) { try ledger.drop(held.id).flatMap { $0.state == .archived ? $0 : nil } }
            #expect(done.state == .archived)
            let posted = try #require(await p.sandbox!.state.allVideos().first)
            #expect(posted.title.hasPrefix("Morning walk, as I want it"), "\(posted.title)")
            #expect(try ledger.events(forDrop: held.id).first { $0.kind == .approved }?.detail?.contains("edited: title") == true)
        }
    }
}
