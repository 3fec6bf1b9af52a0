import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// After the post, through a sandboxed pipeline (issue 25): a published delivery is read back and
/// recorded `verified` (ledger, result JSON, events), or the alert with its reason; its numbers are then
/// read on the pipeline's schedule into the ledger's time series, with the clock injected; a post taken
/// down is recorded as such once, never read in a loop.
@Suite(.serialized) struct VerifyStageTests {
    static let sidecar = "title: Read back\nprivacy: public\n"

    static func open(_ dir: TempDir, clock: TestClock, extra: String = "", quotas: String = TestPipelines.generousQuotas) async throws -> Pipeline {
        let config = try TestPipelines.config(root: dir.url, extra: extra, targets: "targets: [youtube:main]", quotas: quotas)
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "clip", sidecar: sidecar, into: config)
        return try await Pipeline.open(
            config: config, logger: TestPipelines.logger, clock: clock, backoff: .init(base: .milliseconds(20), cap: .milliseconds(200)),
            embedding: TestPipelines.embedding)
    }

    static func once(_ p: Pipeline) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await p.run(once: true) }
            group.addTask {
                try await Task.sleep(for: .seconds(240))
                throw OmniError(.internalError, "the pipeline did not finish")
            }
            try await group.next()
            group.cancelAll()
        }
    }

    static func result(_ p: Pipeline) throws -> DropReport {
        let outbox = p.context.paths.outbox
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: outbox.path).first { $0.hasSuffix(".result.json") })
        return try JSONCoding.decoder().decode(DropReport.self, from: Data(contentsOf: outbox.appendingPathComponent(name)))
    }

    @Test(.timeLimit(.minutes(5))) func aPublishedPostIsVerifiedLiveInTheLedgerTheResultAndTheEvents() async throws {
        let dir = try TempDir()
        let p = try await Self.open(dir, clock: TestClock(Date()))
        try await stopping(p) {
            try await Self.once(p)
            let d = try #require(try p.context.ledger.deliveries(in: [.published]).first)
            let check = try #require(try p.context.ledger.postCheck(deliveryId: d.id!))
            #expect(check.state == .verified && check.reads == 1 && check.remoteId == d.remoteId)
            #expect(check.detail?.contains("privacyStatus=public") == true, "\(check.detail ?? "")")
            #expect(check.metricsState == .collecting && check.nextMetricsAt == check.publishedAt + 3600)
            // The verifying read's numbers are the series' first point.
            #expect(try p.context.ledger.postMetrics(deliveryId: d.id!).count == 1)
            let target = try #require(try Self.result(p).targets.first)
            #expect(target.verified?.state == "verified" && target.verified?.saw?.contains("uploadStatus=processed") == true)
            let events = try p.context.ledger.events(forDrop: d.dropId)
            #expect(events.contains { $0.stage == "verify" && $0.toState == "verified" })
            // YouTube's read is one videos.list call, a unit of the day's quota: in the meter beside the insert's 1,600.
            #expect(await p.sandbox!.state.requestCounts["youtube.list"] == 1)
            let meter = try p.context.ledger.quotaUse(accounts: ["youtube:main"], rules: p.context.profiles.quotas)
            #expect(meter.first { $0.rule == "upload_units" }?.used == 1601, "\(meter)")
        }
    }

    @Test(.timeLimit(.minutes(5))) func aPostTheProjectCannotPublishIsLockedPrivateAndSaysSo() async throws {
        let dir = try TempDir()
        let p = try await Self.open(
            dir, clock: TestClock(Date()), extra: "notify: {digest_hour: off, sinks: [{kind: ntfy, name: ntfy, url: \"http://127.0.0.1:9/x\"}]}")
        try await stopping(p) {
            await p.sandbox!.state.setFaults(.init(postFates: ["locked"]))
            try await Self.once(p)
            let d = try #require(try p.context.ledger.deliveries(in: [.published]).first)
            let check = try #require(try p.context.ledger.postCheck(deliveryId: d.id!))
            #expect(check.state == .failed && check.reasonCode == "locked_private", "\(check)")
            #expect(check.detail?.contains("locked the post") == true)
            #expect(check.metricsState == .none && check.nextMetricsAt == nil && check.nextReadAt == nil)
            let target = try #require(try Self.result(p).targets.first)
            #expect(target.verified?.state == "failed" && target.verified?.reason?.code == "locked_private")
            #expect(try p.context.ledger.events(forDrop: d.dropId).contains { $0.toState == "not_verified" && $0.data == .readBack(reason: "locked_private") })
            // An alert, not a silent success: its reason code as a value.
            try Notifier(ctx: p.context, config: try #require(p.context.config.notify), http: p.http).produce()
            let alert = try #require(try p.context.ledger.notifications().first { $0.kind == "post_not_verified" })
            #expect(alert.title.contains("youtube:main") && alert.body.contains("locked") && alert.facts?.reasonCode == "locked_private", "\(alert)")
            // `/metrics` counts the outcome.
            let metrics = try MetricsExport.text(config: p.context.config, ledger: p.context.ledger, profiles: p.context.profiles)
            #expect(metrics.split(separator: "\n").contains { $0.contains("post_checks") && $0.contains("locked_private") && $0.hasSuffix(" 1.0") }, "\(metrics)")
        }
    }

    /// A read never takes the quota the next upload needs: with room for one more insert and no more,
    /// the read waits for the quota day, and nothing is asked of the platform.
    @Test(.timeLimit(.minutes(5))) func aReadWaitsRatherThanTakeWhatTheNextUploadNeeds() async throws {
        let dir = try TempDir()
        let p = try await Self.open(
            dir, clock: TestClock(Date()),
            quotas: "quotas:\n  youtube: [{name: upload_units, limit: 3200, cost: 1600, window: day, zone: America/Los_Angeles}]")
        try await stopping(p) {
            try await Self.once(p)
            let id = try #require(try p.context.ledger.deliveries(in: [.published]).first?.id)
            let check = try #require(try p.context.ledger.postCheck(deliveryId: id))
            #expect(check.state == .pending && check.reads == 0 && check.detail?.contains("upload_units") == true, "\(check)")
            // Waits for the quota day's next start in its zone — not a fixed hour ahead: run between 23:00 and
            // midnight in Los Angeles (07:00-08:00 UTC), that start is under an hour away.
            var zone = Calendar(identifier: .gregorian)
            zone.timeZone = try #require(TimeZone(identifier: "America/Los_Angeles"))
            let published = Date(timeIntervalSince1970: check.publishedAt)
            let nextDay = try #require(zone.nextDate(after: published, matching: DateComponents(hour: 0, minute: 0, second: 0), matchingPolicy: .nextTime))
            #expect(try #require(check.nextReadAt) >= nextDay.timeIntervalSince1970 - 1, "waits for the quota day (\(nextDay))")
            #expect(await p.sandbox!.state.requestCounts["youtube.list"] == nil)
            #expect(try p.context.ledger.quotaUse(accounts: ["youtube:main"], rules: p.context.profiles.quotas).first?.used == 1600)
        }
    }

    /// A post never shown is read on the pipeline's schedule, then `not_visible` after its last read.
    @Test(.timeLimit(.minutes(5))) func aPostNeverShownIsReadOnScheduleThenNotVisible() async throws {
        let dir = try TempDir()
        let clock = TestClock(Date())
        let p = try await Self.open(dir, clock: clock, extra: "after_post: {verify: [0s, 5m, 1h]}")
        try await stopping(p) {
            await p.sandbox!.state.setFaults(.init(postFates: ["hidden"]))
            try await Self.once(p)
            let id = try #require(try p.context.ledger.deliveries(in: [.published]).first?.id)
            var check = try #require(try p.context.ledger.postCheck(deliveryId: id))
            #expect(check.state == .pending && check.reads == 1 && check.nextReadAt == check.publishedAt + 300)
            let stage = VerifyStage(ctx: p.context)
            #expect(try stage.nextDeadline() == Date(timeIntervalSince1970: check.publishedAt + 300))
            clock.advance(300)
            #expect(try await stage.step())
            check = try #require(try p.context.ledger.postCheck(deliveryId: id))
            #expect(check.state == .pending && check.reads == 2 && check.nextReadAt == check.publishedAt + 3600)
            clock.advance(3300)
            #expect(try await stage.step())
            check = try #require(try p.context.ledger.postCheck(deliveryId: id))
            #expect(check.state == .failed && check.reasonCode == "not_visible" && check.reads == 3, "\(check)")
            #expect(try await stage.step() == false, "nothing more is read")
        }
    }

    /// The numbers are read at the schedule's offsets (an injected clock, the sandbox's moved with it),
    /// they only grow, and a post taken down ends the series once, recorded as removed.
    @Test(.timeLimit(.minutes(5))) func theNumbersAreReadOnScheduleAndATakenDownPostEndsTheSeries() async throws {
        let dir = try TempDir()
        let clock = TestClock(Date())
        let p = try await Self.open(dir, clock: clock, extra: "after_post: {metrics: [1h, 6h, 24h], metrics_every: 2d, metrics_until: 5d}")
        try await stopping(p) {
            try await Self.once(p)
            let state = p.sandbox!.state
            let d = try #require(try p.context.ledger.deliveries(in: [.published]).first)
            let id = d.id!
            let published = try #require(try p.context.ledger.postCheck(deliveryId: id)).publishedAt
            let stage = VerifyStage(ctx: p.context)
            var moved = clock.now().timeIntervalSince1970 - published
            // 1 h, 6 h, 24 h, then every 2 days while the post is at most 5 days old: 3 d, 5 d.
            for offset in [3600.0, 21_600, 86_400, 259_200, 432_000] {
                let due = try #require(try stage.nextDeadline())
                #expect(due.timeIntervalSince1970 == published + offset)
                clock.advance(published + offset - clock.now().timeIntervalSince1970)
                await state.advanceClock(by: published + offset - published - moved)
                moved = offset
                #expect(try await stage.step())
            }
            let series = try p.context.ledger.postMetrics(deliveryId: id)
            #expect(series.dropFirst().map(\.ageSeconds) == [3600, 21_600, 86_400, 259_200, 432_000])
            let views = series.compactMap(\.metrics.views)
            #expect(views.count == 6 && views == views.sorted() && views.last! > views.first!, "\(views)")
            // The sandbox's numbers are a function of the post and its age: the last read is what it says at 5 days.
            let expected = SandboxMetrics(id: d.remoteId!, age: 432_000)
            #expect(abs(Double(views.last! - expected.views)) <= 2, "\(views.last!) vs \(expected.views)")
            // The dashboard's Posts page: verified, the latest numbers, the series as a server-drawn sparkline.
            let page = try DashboardViews(ctx: p.context, watcher: p.watcher).postsPage()
            let row = try #require((page["posts"] as? [[String: Any]])?.first)
            #expect(row["verified"] as? String == "verified" && (row["numbers"] as? String)?.contains("\(views.last!) views") == true, "\(row)")
            let spark = try #require(row["spark"] as? String)
            #expect(spark.hasPrefix("<svg class=\"spark\"") && spark.contains("<title>\(views.last!) views</title>") && spark.components(separatedBy: " L").count == 6)
            var check = try #require(try p.context.ledger.postCheck(deliveryId: id))
            #expect(check.metricsState == .done && check.nextMetricsAt == nil)
            #expect(try stage.nextDeadline() == nil)

            // Another run: taken down after its first numbers — recorded once, not an error loop.
            try Self.resetSchedule(p, id: id, at: clock.now().timeIntervalSince1970)
            await state.takeDown(platform: "youtube", id: d.remoteId!)
            #expect(try await stage.step())
            check = try #require(try p.context.ledger.postCheck(deliveryId: id))
            #expect(check.metricsState == .removed && check.nextMetricsAt == nil, "\(check)")
            #expect(check.detail?.contains("rejected") == true, "\(check.detail ?? "")")
            #expect(try await stage.step() == false)
            #expect(try p.context.ledger.events(forDrop: d.dropId).filter { $0.toState == "metrics_ended" }.count == 1)
        }
    }

    /// Puts the post's numbers back on schedule (a state no operation makes: the schedule was over).
    static func resetSchedule(_ p: Pipeline, id: Int64, at: Double) throws {
        var c = try #require(try p.context.ledger.postCheck(deliveryId: id))
        c.metricsState = .collecting
        c.nextMetricsAt = at
        try p.context.ledger.recordPostRead(c, metrics: nil, event: nil)
    }
}
