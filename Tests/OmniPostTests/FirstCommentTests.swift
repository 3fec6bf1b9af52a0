import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
@testable import OmniPostPlatforms
import OmniPostSandbox
import Testing

/// `first_comment:` on every platform that takes a comment under a post (a YouTube comment thread, an
/// Instagram or Facebook comment, a reply on Threads, X and Bluesky, a LinkedIn or Reddit comment): one
/// drop, each post with its comment, once. Each platform's comment across a lost answer is the
/// conformance scenario `FollowUpConformanceTests.aFollowUpSurvivesAKill`; here it is the pipeline's.
@Suite struct FirstCommentTests {
    static let takers = ["youtube", "instagram", "facebook", "threads", "x", "bluesky", "linkedin", "reddit"]

    @Test func everyPlatformThatTakesACommentSaysSoInItsDescriptor() {
        for p in Self.takers { #expect(PlatformRegistry.descriptor(p)?.followUps.contains(.firstComment) == true, "\(p)") }
        // And takes a target's own, in `overrides:` (the descriptor's fact, not a key each platform lists).
        for p in Self.takers { #expect(PlatformRegistry.descriptor(p)?.facts.optionKeys.contains("first_comment") == true, "\(p)") }
        #expect(PlatformRegistry.descriptor("tiktok")?.facts.optionKeys.contains("first_comment") == false)
    }

    /// One drop to every platform that takes a comment (and Vimeo, which takes none): each post gets its
    /// comment once, and each follow-up shows where people look — the result JSON's `targets[].follow_ups`,
    /// the dashboard's drop page, and `omnipost status`'s count of those still pending.
    @Test(.timeLimit(.minutes(4))) func oneDropCommentsUnderEveryPostOnceAndShowsIt() async throws {
        let dir = try TempDir()
        let token = "dashboard-token-0123456789"
        chmod(try dir.write("token", token + "\n").path, 0o600)
        let targets = Self.takers.map { "\($0):main" }.joined(separator: ", ") + ", vimeo:main"
        let config = try TestPipelines.config(
            root: dir.url, extra: "http: {listen: \"127.0.0.1:0\", token_file: \(dir.url.path)/token, loopback_reads: open}\n",
            targets: "targets: [\(targets)]")
        try TestPipelines.drop(
            try Clips.make(width: 720, height: 1280, seconds: 4), as: "walk",
            sidecar: "title: a walk by the sea\nprivacy: public\nfirst_comment: \"Thanks for watching! More on Friday.\"\n"
                + "overrides:\n  x: {first_comment: \"More on Friday, X.\"}\n", into: config)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let state = p.sandbox!.state
            let ledger = p.context.ledger
            let deliveries = try ledger.allDeliveries()
            #expect(deliveries.allSatisfy { $0.state == .published }, "\(deliveries.map { "\($0.target) \($0.state) \($0.errorMessage ?? "")" })")
            let drop = try #require(try ledger.drops().first)
            let result = try readJSON(config.paths.outbox.appendingPathComponent("\(drop.id).result.json"))
            let reported = result["targets"] as? [[String: Any]] ?? []
            let page = try await DashboardTests.http("http://127.0.0.1:\(try #require(p.listener).port)/drops/\(drop.id)")
            for d in deliveries where d.platform != "vimeo" {
                let remote = try #require(d.remoteId, "\(d.target)")
                let said = await state.said(under: remote, on: d.platform)
                #expect(said == [d.platform == "x" ? "More on Friday, X." : "Thanks for watching! More on Friday."], "\(d.platform): \(said)")
                let row = try #require(try ledger.followUp(deliveryId: d.id!, key: "first_comment"), "\(d.platform)")
                #expect(row.state == .made && row.remoteId?.isEmpty == false, "\(d.platform)")
                let shown = (reported.first { $0["target"] as? String == d.target }?["follow_ups"] as? [[String: Any]]) ?? []
                #expect(
                    shown.count == 1 && shown.first?["kind"] as? String == "first_comment" && shown.first?["state"] as? String == "made"
                        && shown.first?["remote_id"] as? String == row.remoteId, "\(d.platform): \(shown)")
                #expect(page.body.contains(row.remoteId ?? "?"), "the drop page shows \(d.platform)'s comment")
            }
            #expect(page.body.contains("class=\"follow-up\"") && page.body.contains("first_comment"))
            // Vimeo takes no comment here: nothing is owed, nothing asked, nothing shown.
            let vimeo = try #require(deliveries.first { $0.platform == "vimeo" })
            #expect(try ledger.followUps(deliveryId: vimeo.id!).isEmpty)
            #expect(reported.first { $0["target"] as? String == "vimeo:main" }?["follow_ups"] == nil)
            // One asked for whose answer is not kept yet (as a kill leaves it) is counted by `omnipost status`.
            try ledger.recordFollowUp(deliveryId: vimeo.id!, key: "first_comment", kind: "first_comment", state: .intended)
            let status = try StatusReport.gather(config: p.context.config, ledger: ledger, profiles: p.context.profiles)
            #expect(status.pendingFollowUps == 1)
            #expect(try status.text(ledger: ledger).contains("follow-ups pending: 1"))
            #expect(try status.json().contains("\"pending_follow_ups\" : 1"))
        }
    }

    /// A comment over the platform's limit for a comment is refused at validation, at the line that
    /// wrote it, before anything is sent: X counts a reply as a post (280 weighted).
    @Test func aCommentOverThePlatformsLimitIsRefusedAtItsLine() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main, x:main]")
        let long = String(repeating: "word ", count: 60)
        try TestPipelines.drop(
            try Clips.make(width: 320, height: 240, seconds: 1), as: "walk", sidecar: "title: walk\nprivacy: public\nfirst_comment: \"\(long)\"\n",
            into: config)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let drop = try #require(try p.context.ledger.drops().first)
            #expect(drop.state == .failed && drop.reasonCode == "text_too_long", "\(drop.reasonCode ?? "") \(drop.reasonMessage ?? "")")
            #expect(drop.reasonMessage?.contains("first comment") == true && drop.reasonMessage?.contains("280") == true, "\(drop.reasonMessage ?? "")")
            #expect(drop.reasonLocation == "walk.yaml:3:16", "\(drop.reasonLocation ?? "")")
            #expect(await p.sandbox!.state.allVideos().isEmpty)
        }
    }

    /// A target's own comment is held to its platform's limit at its own line.
    @Test func aTargetsOwnCommentIsCheckedWhereItIsWritten() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [bluesky:main]")
        let long = String(repeating: "ab ", count: 120)
        try TestPipelines.drop(
            try Clips.make(width: 320, height: 240, seconds: 1), as: "walk",
            sidecar: "title: walk\nprivacy: public\nfirst_comment: short\noverrides:\n  bluesky: {first_comment: \"\(long)\"}\n", into: config)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let drop = try #require(try p.context.ledger.drops().first)
            #expect(drop.state == .failed && drop.reasonCode == "text_too_long", "\(drop.reasonCode ?? "") \(drop.reasonMessage ?? "")")
            #expect(drop.reasonMessage?.contains("300") == true, "\(drop.reasonMessage ?? "")")
            #expect(drop.reasonLocation?.hasPrefix("walk.yaml:5:") == true, "\(drop.reasonLocation ?? "")")
        }
    }
}
