import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
@testable import OmniPostSandbox
import Testing

/// A drop whose every delivery was cancelled published nothing: it is filed as cancelled (to failed/,
/// its report saying who cancelled each target), never archived as published.
@Suite struct CancelledDropTests {
    /// The outcome from the deliveries alone: all cancelled is `cancelled`, with a reason naming each.
    @Test func everyDeliveryCancelledIsCancelledNotPublished() {
        func delivery(_ target: String, _ state: DeliveryState, _ why: String? = nil) -> DeliveryRecord {
            var d = DeliveryRecord(
                dropId: "d", target: target, platform: "x", account: "main", profile: "x", state: state,
                plan: .pass, planDetail: nil, specKey: nil, metadataJson: "{}", contentSha256: "d", notBefore: nil, now: 1)
            if state == .cancelled {
                d.errorCode = "cancelled"
                d.errorMessage = why
            }
            return d
        }
        let both = [delivery("x:main", .cancelled, "cancelled by ana (cli)"), delivery("bluesky:main", .cancelled, "cancelled by ana (cli)")]
        #expect(ArchiveStage.Outcome(both) == .cancelled)
        let why = ArchiveStage.reason(both)
        #expect(why?.code == "cancelled")
        #expect(why?.message.contains("x:main cancelled (cancelled: cancelled by ana (cli))") == true, "\(why?.message ?? "")")
        #expect(ArchiveStage.Outcome([delivery("x:main", .cancelled), delivery("bluesky:main", .published)]) == .published)
        #expect(ArchiveStage.Outcome([delivery("x:main", .cancelled), delivery("bluesky:main", .failed)]) == .failed)
        #expect(ArchiveStage.filingFolder(DropRecord(id: "d", pipeline: "p", stem: "s", clipPath: "s.mp4", sidecarPath: nil, now: 1), outcome: .cancelled) == "failed/d")
    }

    /// End to end: a drop waiting for approval, cancelled through the CLI's path before anything went
    /// out, is filed to failed/<drop> with `"state": "cancelled"` and the reason — not to archive/.
    @Test(.timeLimit(.minutes(6)))
    func aDropCancelledBeforeItWentOutIsFiledAsCancelled() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, extra: "approval: required", targets: "targets: [x:main, bluesky:main]")
        try TestPipelines.drop(try Clips.make(width: 720, height: 1280, seconds: 4), as: "gone", sidecar: "title: never mind\nprivacy: public\n", into: config)
        let p = try await ApprovalTests.open(config)
        try await running(p) {
            let ledger = p.context.ledger, sandbox = try #require(p.sandbox)
            let drop = try await ApprovalTests.waiting(ledger, "gone.mp4")
            let lines = try await QueueControl(config: config, ledger: ledger, who: "ana (cli)").cancel(drop.id)
            #expect(lines.count == 2, "\(lines)")
            let filed = try await RetryTests.until(seconds: 120) { try ledger.drop(drop.id).flatMap { $0.state.isTerminal ? $0 : nil } }
            #expect(filed.state == .failed)
            #expect(filed.reasonCode == "cancelled")
            #expect(FileManager.default.fileExists(atPath: dir.file("failed/\(drop.id)/gone.mp4").path))
            #expect(!FileManager.default.fileExists(atPath: config.paths.outbox.appendingPathComponent("\(drop.id).result.json").path))
            let report = try readJSON(config.paths.outbox.appendingPathComponent("failed/\(drop.id).failure.json"))
            #expect(report["state"] as? String == "cancelled", "\(report)")
            let reason = report["reason"] as? [String: Any]
            #expect(reason?["code"] as? String == "cancelled")
            #expect((reason?["message"] as? String)?.contains("cancelled by ana (cli)") == true, "\(reason ?? [:])")
            #expect(await sandbox.state.allVideos().isEmpty)
        }
    }
}
