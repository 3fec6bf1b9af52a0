import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import OmniPostPlatforms
import Testing

/// Scenario l, at pipeline level, for every platform: a drop goes to the platform and to a folder; the
/// platform's delivery fails (its fixture's failure), the folder's copy is made. `omnipost retry`
/// brings the drop back and the second run publishes only the failed target, exactly once — the
/// folder is not written again, the platform holds one post.
@Suite struct ConformanceRetryTests {
    @Test(.timeLimit(.minutes(5)), arguments: ConformanceFixture.all.filter { $0.pipelineFailure.value != nil })
    func aRetryPublishesOnlyTheFailedTargetOnce(_ f: ConformanceFixture) async throws {
        let faults = try #require(f.pipelineFailure.value)
        let dir = try TempDir()
        let target = "\(f.name):main"
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [folder:copy, \(target)]")
        let clip = try Clips.make(width: 720, height: 1280, seconds: 4)
        try TestPipelines.drop(
            clip, as: "a",
            sidecar: "title: Conformance clip\ndescription: sent again only where it failed\nprivacy: public\n"
                + f.sidecarExtra, into: config)
        let p = try await TestPipelines.runOnce(config, timeout: .seconds(120)) { p in await p.sandbox!.state.setFaults(faults) }
        try await stopping(p) {
            let ledger = p.context.ledger, server = try #require(p.sandbox)
            let first = try #require(try ledger.drops().first)
            let failed = try #require(
                try ledger.deliveries(forDrop: first.id).first { $0.target == target },
                "\(first.state) \(first.reasonCode ?? "") \(first.reasonMessage ?? "")")
            let copied = try #require(try ledger.deliveries(forDrop: first.id).first { $0.target == "folder:copy" })
            #expect(failed.state == .failed, "\(failed.state) \(failed.errorCode ?? "") \(failed.errorMessage ?? "")")
            #expect(copied.state == .published)
            // Partly published: the report says `partial`, naming the failed target and what went out.
            #expect(first.state == .failed && first.reasonMessage?.contains("\(target) failed") == true, "\(first.reasonMessage ?? "")")
            #expect(first.reasonMessage?.contains("published to folder:copy") == true)
            let result = try readJSON(config.paths.outbox.appendingPathComponent("\(first.id).result.json"))
            #expect(result["state"] as? String == "partial")
            #expect(await server.state.allVideos().filter { $0.platform == f.name }.isEmpty, "a failure is not a post")

            let lines = try QueueControl(config: config, ledger: ledger).retry(first.id)
            #expect(
                lines.last?.contains("\(target) will be tried again") == true && lines.last?.contains("published targets are skipped (folder:copy)") == true,
                "\(lines)")
            try await RetryTests.runAgain(p)
            let second = try #require(try ledger.drops().first { $0.id != first.id })
            #expect(second.state == .archived, "\(second.state) \(second.reasonCode ?? "") \(second.reasonMessage ?? "")")
            let again = try ledger.deliveries(forDrop: second.id)
            let skipped = try #require(again.first { $0.target == "folder:copy" })
            #expect(skipped.state == .cancelled && skipped.errorCode == "duplicate")
            #expect(again.first { $0.target == target }?.state == .published)
            // One post on the platform, ever; one copy in the folder.
            #expect(await server.state.allVideos().filter { $0.platform == f.name }.count == 1)
            let folder = try #require(try config.accounts["folder:copy"]?.text("path") ?? p.context.config.accounts["folder:copy"]?.text("path"))
            #expect(files(under: URL(fileURLWithPath: folder)).filter { !$0.hasPrefix(".") }.count == 1)
        }
    }
}
