import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
@testable import OmniPostSandbox
import Testing

/// Approval before publish (issue 29): a drop that needs it is validated and converted, then waits with
/// nothing sent; a person approves (with edits, checked again) or rejects it through the CLI's path, the
/// API, the dashboard's form or the review file moved in the outbox; a deadline reminds, then expires it.
@Suite struct ApprovalTests {
    static func open(_ config: PipelineConfig, clock: any WallClock = SystemClock()) async throws -> Pipeline {
        try await Pipeline.open(
            config: config, logger: TestPipelines.logger, clock: clock, backoff: .init(base: .milliseconds(20), cap: .milliseconds(200)),
            embedding: TestPipelines.embedding)
    }

    static func waiting(_ ledger: Ledger, _ clip: String) async throws -> DropRecord {
        do {
            return try await RetryTests.until(seconds: 180) {
                try ledger.drops().first { d in try d.clipPath == clip && d.state == .converted && !ledger.awaitingApproval(dropId: d.id).isEmpty }
            }
        } catch {
            Issue.record(
                "\(clip): \(try ledger.drops().map { "\($0.clipPath ?? "") \($0.state) \($0.reasonCode ?? "") \($0.reasonMessage ?? "")" }) \(try ledger.allDeliveries().map { "\($0.dropId) \($0.target) \($0.state) \($0.gate ?? "") \($0.errorMessage ?? "")" })")
            throw error
        }
    }

    @Test(.timeLimit(.minutes(8)))
    func aDropWaitsUntilApprovedThroughEachPathAndAnEditIsCheckedAgain() async throws {
        let dir = try TempDir()
        try Data("s3cret-token-for-reviewers\n".utf8).write(to: dir.file("token"))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: dir.file("token").path)
        let config = try TestPipelines.config(
            root: dir.url, extra: "approval: required\nhttp: {listen: \"127.0.0.1:0\", token_file: \(dir.url.path)/token, loopback_reads: open}",
            targets: "targets: [x:main, bluesky:main]")
        let clip = try Clips.make(width: 720, height: 1280, seconds: 4)
        for stem in ["cli", "api", "folder", "form"] {
            try TestPipelines.drop(clip, as: stem, sidecar: "title: \(stem) post\nprivacy: public\nrepublish: true\n", into: config)
        }
        let p = try await Self.open(config)
        try await running(p) {
            let ledger = p.context.ledger, sandbox = try #require(p.sandbox)
            let cli = try await Self.waiting(ledger, "cli.mp4")
            let api = try await Self.waiting(ledger, "api.mp4")
            let folder = try await Self.waiting(ledger, "folder.mp4")
            let form = try await Self.waiting(ledger, "form.mp4")
            // Converted, held, nothing sent; the plan and the review file say so.
            try await Task.sleep(for: .seconds(1))
            #expect(await sandbox.state.allVideos().isEmpty)
            #expect(try ledger.events(forDrop: cli.id).contains { $0.kind == .awaitingApproval })
            let review = ReviewFile.url(folder.id, config.paths)
            let text = try String(contentsOf: review, encoding: .utf8)
            #expect(text.contains("title: \"folder post\"") && text.contains("#   x:main: ") && text.contains("#   bluesky:main: "), "\(text)")

            // CLI (another process's ledger connection, as `omnipost approve` opens it): an edit too long for X
            // is refused with X's reason, and nothing changes; a shorter one goes out on both.
            let other = QueueControl(config: config, ledger: try Ledger(path: config.paths.ledger.path), who: "ana (cli)")
            #expect(throws: OmniError.self) { try other.approve(cli.id, edits: ApprovalEdits(title: String(repeating: "long ", count: 80))) }
            #expect(try ledger.awaitingApproval(dropId: cli.id).count == 2)
            let said = try other.approve(cli.id, note: "looks good", edits: ApprovalEdits(title: "cli post, edited"))
            #expect(said.last?.contains("approved: x:main, bluesky:main go out with title edited") == true, "\(said)")

            // API, with the bearer token.
            let (status, body) = try await OperatorAPITests.get(
                "http://127.0.0.1:\(try #require(p.listener).port)/api/v1/approve/\(api.id)", token: "s3cret-token-for-reviewers", method: .POST)
            #expect(status == 200, "\(String(decoding: body, as: UTF8.self))")

            // The folder: the review file moved into review/approved/ with its title edited.
            let approvedDir = ReviewFile.folder(config.paths).appendingPathComponent("approved")
            try Data(text.replacingOccurrences(of: "title: \"folder post\"", with: "title: \"folder post, from the NAS\"").utf8)
                .write(to: approvedDir.appendingPathComponent("\(folder.id).yaml.part"))
            try FileManager.default.moveItem(at: approvedDir.appendingPathComponent("\(folder.id).yaml.part"), to: approvedDir.appendingPathComponent("\(folder.id).yaml"))
            try FileManager.default.removeItem(at: review)

            // The dashboard: a reviewer signs in and presses Approve on the drop's page, in real Chromium.
            if DashboardTests.chromium, PythonServer.has("selenium") {
                let base = "http://127.0.0.1:\(try #require(p.listener).port)"
                let r = try await offPool {
                    try SandboxOfficialClientTests.run(
                        PipelineConfigTests.repoRoot.appendingPathComponent("Tests/clients/dashboard_approve.py").path,
                        [base, "s3cret-token-for-reviewers", form.id, DashboardTests.artifacts.path])
                }
                #expect(r["ok"] as? Bool == true && r["buttonsSignedOut"] as? Int == 0 && r["pageShowsTitle"] as? Bool == true, "\(r)")
                #expect((r["said"] as? String)?.contains("approved") == true && (r["url"] as? String)?.contains("/drops/\(form.id)") == true, "\(r)")
            } else {
                Issue.record("chromium, chromedriver or selenium missing: `make test` installs them")
            }

            for (drop, title) in [(cli, "cli post, edited"), (api, "api post"), (folder, "folder post, from the NAS"), (form, "form post")] {
                let done = try await RetryTests.until(seconds: 180) { try ledger.drop(drop.id).flatMap { $0.state == .archived ? $0 : nil } }
                let ds = try ledger.deliveries(forDrop: done.id)
                #expect(ds.map(\.state) == [.published, .published], "\(drop.clipPath ?? ""): \(ds.map { "\($0.target) \($0.state) \($0.errorMessage ?? "")" })")
                #expect(try ds.allSatisfy { try $0.metadata.title == title }, "\(drop.clipPath ?? "")")
                let approved = try #require(try ledger.events(forDrop: drop.id).first { $0.kind == .approved })
                #expect(approved.detail?.hasPrefix("approved by ") == true)
                if drop.id == form.id { #expect(approved.detail?.contains("dashboard") == true, "\(approved.detail ?? "")") }
                let result = try readJSON(config.paths.outbox.appendingPathComponent("\(drop.id).result.json"))
                #expect(result["state"] as? String == "published")
                #expect(((result["approval"] as? [String: Any])?["said"] as? String)?.hasPrefix("approved by ") == true, "\(result)")
            }
            #expect(try ledger.events(forDrop: cli.id).first { $0.kind == .approved }?.detail == "approved by ana (cli); edited: title; note: looks good")
            #expect(try ledger.events(forDrop: folder.id).first { $0.kind == .approved }?.detail?.contains("by its review file; edited: title") == true)
            #expect(FileManager.default.fileExists(atPath: approvedDir.appendingPathComponent("\(folder.id).done.txt").path))
            #expect(await sandbox.state.allVideos().count == 8, "four drops × two targets, once each")
        }
    }

    @Test(.timeLimit(.minutes(8)))
    func aRejectionGoesToFailedAndAnUnansweredDropIsRemindedThenExpires() async throws {
        let dir = try TempDir()
        // Real time moving on, moved ahead by hours when the test says so (a frozen clock would hold every
        // other deadline of the daemon — a verification read's, a back-off's — still).
        let clock = ShiftedClock()
        let config = try TestPipelines.config(
            root: dir.url, extra: "approval: {targets: [x:main], remind_after: 1h, expire_after: 1d}", targets: "targets: [x:main, bluesky:main]")
        // Two different clips: with one clip twice, whichever was validated second was a duplicate of the
        // first — the order is the machine's.
        try TestPipelines.drop(try Clips.make(width: 720, height: 1280, seconds: 4), as: "no", sidecar: "title: not this one\nprivacy: public\n", into: config)
        try TestPipelines.drop(try Clips.make(width: 720, height: 1280, seconds: 4.5), as: "late", sidecar: "title: nobody looked\nprivacy: public\n", into: config)
        let p = try await Self.open(config, clock: clock)
        try await running(p) {
            let ledger = p.context.ledger, sandbox = try #require(p.sandbox)
            let no = try await Self.waiting(ledger, "no.mp4")
            let late = try await Self.waiting(ledger, "late.mp4")
            // Only x:main waits: Bluesky went out without a person.
            let bluesky = try await RetryTests.until(seconds: 180) { try ledger.deliveries(forDrop: no.id).first { $0.target == "bluesky:main" && $0.state == .published } }
            #expect(bluesky.gate == nil)

            // Rejected from the folder: to failed/ with the reason, x never sent.
            let rejectedDir = ReviewFile.folder(config.paths).appendingPathComponent("rejected")
            try FileManager.default.moveItem(at: ReviewFile.url(no.id, config.paths), to: rejectedDir.appendingPathComponent("\(no.id).yaml"))
            let failed = try await RetryTests.until(seconds: 120) { try ledger.drop(no.id).flatMap { $0.state.isTerminal ? $0 : nil } }
            #expect(failed.state == .failed)
            let x = try #require(try ledger.deliveries(forDrop: no.id).first { $0.target == "x:main" })
            #expect(x.state == .failed && x.errorCode == "approval_rejected")
            #expect(x.errorMessage?.contains("rejected by its review file") == true)
            let report = try readJSON(config.paths.outbox.appendingPathComponent("failed/\(no.id).failure.json"))
            #expect((report["targets"] as? [[String: Any]])?.contains { ($0["error"] as? [String: Any])?["code"] as? String == "approval_rejected" } == true)

            // Two hours on: one reminder. Two days on: expired, nothing sent to x.
            clock.advance(7200)
            p.context.wakeup.ring()
            _ = try await RetryTests.until(seconds: 60) { try ledger.events(forDrop: late.id).first { $0.kind == .approvalReminder } }
            clock.advance(2 * 86400)
            p.context.wakeup.ring()
            let expired = try await RetryTests.until(seconds: 120) { try ledger.deliveries(forDrop: late.id).first { $0.target == "x:main" && $0.state == .failed } }
            #expect(expired.errorCode == "approval_expired")
            #expect(try ledger.events(forDrop: late.id).filter { $0.kind == .approvalReminder }.count == 1)
            #expect(await sandbox.state.allVideos().filter { $0.platform == "x" }.isEmpty)
        }
    }

    @Test(.timeLimit(.minutes(8)))
    func aRestartWhileWaitingLosesNothingAndThePlanSaysItWaits() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [x:main]")
        let clip = try Clips.make(width: 720, height: 1280, seconds: 4)
        try TestPipelines.drop(clip, as: "held", sidecar: "title: held\nprivacy: public\napproval: required\n", into: config)
        let plan = try await DropPlanner(config: config).plan(config.paths.inbox.appendingPathComponent("held.yaml").path)
        #expect(plan.drops.first?.targets.first?.waits.first?.hasPrefix("approval:") == true)
        #expect(plan.drops.first?.targets.first?.goesAt == nil)

        let first = try await Self.open(config)
        let held = try await running(first) { try await Self.waiting(first.context.ledger, "held.mp4") }
        // Stopped while it waited (as a kill leaves it: the ledger holds the wait), started again.
        let second = try await Self.open(config)
        try await running(second) {
            let ledger = second.context.ledger
            #expect(try ledger.awaitingApproval(dropId: held.id).count == 1)
            #expect(await second.sandbox!.state.allVideos().isEmpty)
            _ = try QueueControl(config: config, ledger: ledger, who: "test").approve(held.id)
            _ = try await RetryTests.until(seconds: 180) { try ledger.drop(held.id).flatMap { $0.state == .archived ? $0 : nil } }
            #expect(await second.sandbox!.state.allVideos().count == 1)
        }
    }
}

/// The system's time, plus an offset a test moves ahead (`advance`).
final class ShiftedClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var offset: TimeInterval = 0
    func now() -> Date { Date().addingTimeInterval(lock.withLock { offset }) }
    func advance(_ s: TimeInterval) { lock.withLock { offset += s } }
}
