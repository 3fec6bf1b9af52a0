import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Numbers from a platform's second API, through a sandboxed pipeline (issue 25): read on the metrics
/// schedule into the same series as the read-back's; YouTube Analytics' reports counted in a quota of their
/// own; a grant without the insights permission recorded once, not an error loop; Instagram's reach kept
/// exactly as the API gives it — never doubled, never summed — through the ledger, `stats` and `export`.
@Suite(.serialized) struct InsightsTests {
    static let youtubeQuotas = """
        quotas:
          youtube:
            - {name: upload_units, limit: 1000000, cost: 1600, window: day, zone: America/Los_Angeles}
            - {name: analytics_queries, limit: 100, cost: 1, window: day, zone: America/Los_Angeles, on: analytics}
        """
    static let schedule = "after_post: {metrics: [1h, 6h, 24h], metrics_every: 2d, metrics_until: 5d}"

    static func open(_ dir: TempDir, clock: TestClock, targets: String, quotas: String = TestPipelines.generousQuotas) async throws -> Pipeline {
        let config = try TestPipelines.config(root: dir.url, extra: schedule, targets: targets, quotas: quotas)
        // 3 s: Instagram's shortest reel.
        try TestPipelines.drop(try Clips.make(width: 540, height: 960, seconds: 3), as: "clip", sidecar: VerifyStageTests.sidecar, into: config)
        return try await Pipeline.open(
            config: config, logger: TestPipelines.logger, clock: clock, backoff: .init(base: .milliseconds(20), cap: .milliseconds(200)),
            embedding: TestPipelines.embedding)
    }

    /// Moves the pipeline's clock and the sandbox's to `offset` seconds after the post went out, and reads what is due.
    static func step(_ p: Pipeline, _ clock: TestClock, published: Double, to offset: Double) async throws {
        let by = published + offset - clock.now().timeIntervalSince1970
        clock.advance(by)
        await p.sandbox!.state.advanceClock(by: by)
        #expect(try await VerifyStage(ctx: p.context).step())
    }

    @Test(.timeLimit(.minutes(5))) func youtubeAnalyticsFillsTheSeriesInItsOwnQuotaAndAMissingScopeIsSaidOnce() async throws {
        let dir = try TempDir()
        let clock = TestClock(Date())
        let p = try await Self.open(dir, clock: clock, targets: "targets: [youtube:main]", quotas: Self.youtubeQuotas)
        try await stopping(p) {
            try await VerifyStageTests.once(p)
            let state = p.sandbox!.state
            let ledger = p.context.ledger
            let d = try #require(try ledger.deliveries(in: [.published]).first)
            let id = d.id!
            let published = try #require(try ledger.postCheck(deliveryId: id)).publishedAt
            // The verifying read's point: views from videos.list, watch time and shares from the report.
            var series = try ledger.postMetrics(deliveryId: id)
            #expect(series.count == 1 && series[0].metrics.views != nil && series[0].metrics.watchSeconds != nil && series[0].metrics.shares != nil, "\(series)")
            #expect(await state.requestCounts["youtube.analytics"] == 1)
            func used() throws -> Int? {
                try ledger.quotaUse(accounts: ["youtube:main"], rules: p.context.profiles.quotas).first { $0.rule == "analytics_queries" }?.used
            }
            #expect(try used() == 1, "a report is a unit of its own quota")

            try await Self.step(p, clock, published: published, to: 3600)
            series = try ledger.postMetrics(deliveryId: id)
            let hour = try #require(series.last?.metrics)
            #expect(series.count == 2 && (hour.watchSeconds ?? 0) > (series[0].metrics.watchSeconds ?? 0), "\(series)")
            // The report's numbers for the video at its age: watch time from minutes, the average as given.
            let expected = SandboxMetrics(id: d.remoteId!, age: 3600)
            #expect(hour.averageViewSeconds == expected.averageViewSeconds && abs((hour.watchSeconds ?? 0) - (expected.watchSeconds / 60).rounded() * 60) <= 120)
            #expect(await state.requestCounts["youtube.analytics"] == 2)
            // Both reports in one quota day, unless the hour crossed midnight in Los Angeles (the quota's zone:
            // run 07:00-08:00 UTC, it does, and the day's count starts again).
            var zone = Calendar(identifier: .gregorian)
            zone.timeZone = try #require(TimeZone(identifier: "America/Los_Angeles"))
            let sameDay = zone.isDate(Date(timeIntervalSince1970: published), inSameDayAs: Date(timeIntervalSince1970: published + 3600))
            #expect(try used() == (sameDay ? 2 : 1))

            // The person unticked the scope: recorded once, with its reason; the read-back's numbers go on alone.
            await state.withholdInsights(platform: "youtube")
            try await Self.step(p, clock, published: published, to: 21_600)
            try await Self.step(p, clock, published: published, to: 86_400)
            series = try ledger.postMetrics(deliveryId: id)
            #expect(series.count == 4 && series.suffix(2).allSatisfy { $0.metrics.views != nil && $0.metrics.watchSeconds == nil }, "\(series)")
            #expect(await state.requestCounts["youtube.analytics"] == 3, "asked once after the refusal, then not again")
            let refusal = try #require(try ledger.insightRefusal(account: "youtube:main"))
            #expect(refusal.api == "youtubeAnalytics.reports.query" && refusal.detail.contains("yt-analytics.readonly"), "\(refusal)")
            let said = try ledger.events(forDrop: d.dropId).filter { $0.toState == "insights_refused" }
            #expect(said.count == 1 && said.first?.data == .readBack(reason: "insights_not_granted"), "\(said)")

            // Connected again with the scope: the report is read again.
            await state.withholdInsights(platform: "youtube", false)
            try ledger.forgetInsightRefusal(account: "youtube:main")
            try await Self.step(p, clock, published: published, to: 259_200)
            #expect(try ledger.postMetrics(deliveryId: id).last?.metrics.watchSeconds != nil)
            #expect(await state.requestCounts["youtube.analytics"] == 4)
        }
    }

    /// LinkedIn's Member Post Statistics on the metrics schedule: the verifying read's point and the
    /// hour's carry impressions, reach, reactions, comments and reshares from `memberCreatorPostAnalytics`
    /// (five calls a reading, one per metric type), growing with the post's age; a grant without
    /// `r_member_postAnalytics` is recorded once and not asked again.
    @Test(.timeLimit(.minutes(5))) func linkedInsPostStatisticsFillTheSeriesAndAMissingGrantIsSaidOnce() async throws {
        let dir = try TempDir()
        let clock = TestClock(Date())
        let p = try await Self.open(dir, clock: clock, targets: "targets: [linkedin:main]")
        try await stopping(p) {
            try await VerifyStageTests.once(p)
            let state = p.sandbox!.state
            let ledger = p.context.ledger
            let d = try #require(try ledger.deliveries(in: [.published]).first)
            let id = d.id!
            let published = try #require(try ledger.postCheck(deliveryId: id)).publishedAt
            try await Self.step(p, clock, published: published, to: 3600)
            let series = try ledger.postMetrics(deliveryId: id)
            let hour = try #require(series.last?.metrics)
            let expected = SandboxMetrics(id: d.remoteId!, age: 3600)
            #expect(series.count == 2 && hour.views != nil && hour.reach != nil && hour.likes != nil && hour.shares != nil, "\(series)")
            // The sandbox's clock and the pipeline's moved together; the read came a moment after the hour.
            #expect((hour.views ?? 0) >= expected.views && (hour.reach ?? 0) < (hour.views ?? 0), "\(hour) vs \(expected)")
            #expect((hour.views ?? 0) >= (series[0].metrics.views ?? 0))
            let asked = await state.requestCounts["linkedin.postAnalytics"] ?? 0
            #expect(asked == 10, "five metric types a reading, two readings")
            await state.withholdInsights(platform: "linkedin")
            try await Self.step(p, clock, published: published, to: 21_600)
            try await Self.step(p, clock, published: published, to: 86_400)
            #expect(await state.requestCounts["linkedin.postAnalytics"] == asked + 1, "refused once, then not asked again")
            let refusal = try #require(try ledger.insightRefusal(account: "linkedin:main"))
            #expect(refusal.api == "memberCreatorPostAnalytics" && refusal.detail.contains("r_member_postAnalytics"), "\(refusal)")
        }
    }

    /// Users' top complaint about their tools: Instagram reach shown at twice its value. The reel's reach is
    /// the API's own number in every reading — not views, not the sum of readings, not doubled — and `stats`
    /// and `export` show that same number.
    @Test(.timeLimit(.minutes(5))) func instagramReachIsKeptExactlyAsTheAPIGivesIt() async throws {
        let dir = try TempDir()
        let clock = TestClock(Date())
        let p = try await Self.open(dir, clock: clock, targets: "targets: [instagram:main]")
        try await stopping(p) {
            try await VerifyStageTests.once(p)
            let ledger = p.context.ledger
            let all = try ledger.deliveries(in: [.published, .failed])
            let d = try #require(all.first { $0.state == .published }, "\(all.map { "\($0.state) \($0.errorCode ?? "") \($0.errorMessage ?? "")" })")
            let id = d.id!
            let check = try #require(try ledger.postCheck(deliveryId: id))
            #expect(check.state == .verified, "\(check)")
            // Read at 1 h, 6 h and 24 h, with the sandbox's reel 20 days older each time: its numbers have
            // levelled off, so what the API answers at each read is known exactly.
            await p.sandbox!.state.advanceClock(by: 20 * 86_400)
            for offset in [3600.0, 21_600, 86_400] {
                try await Self.step(p, clock, published: check.publishedAt, to: offset)
            }
            let series = try ledger.postMetrics(deliveryId: id)
            let asked = await p.sandbox!.state.requestCounts["instagram.insights"]
            #expect(series.count == 4 && asked == 4, "\(series)")
            let settled = SandboxMetrics(id: d.remoteId!, age: 21 * 86_400)
            for r in series.dropFirst() {
                #expect(r.metrics.reach == settled.reach && r.metrics.views == settled.views, "\(r.metrics) vs \(settled)")
                #expect(r.metrics.reach! < r.metrics.views!, "reach counts each account once")
            }
            let reach = try #require(series.last?.metrics.reach)
            // Three readings of the same reach are three readings, not 3× the reach.
            #expect(series.dropFirst().compactMap(\.metrics.reach).allSatisfy { $0 == reach })
            // Likes and comments still come from the media's fields, saves and views from its insights.
            #expect(series.last?.metrics.likes == settled.likes && series.last?.metrics.saves == settled.saves)

            let stats = try PostStats.gather(ledger: ledger, since: Date(timeIntervalSince1970: 0))
            #expect(stats.posts.first?.metrics.reach == reach)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(stats.json().utf8)) as? [String: Any])
            let post = try #require((json["posts"] as? [[String: Any]])?.first)
            #expect((post["metrics"] as? [String: Any])?["reach"] as? Int == Int(reach), "\(post)")
            let csvPosts = stats.csv().components(separatedBy: "\r\n\r\n")[1].components(separatedBy: "\r\n")
            #expect(csvPosts[0].hasSuffix(",reach") && csvPosts[1].hasSuffix(",\(reach)"), "\(csvPosts)")
            var exported = ""
            try LedgerExport.write(.metrics, ledger: ledger, from: Date(timeIntervalSince1970: 0), to: Date.distantFuture, format: .csv) { exported += $0 }
            let rows = exported.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            let column = try #require(rows.first?.firstIndex(of: "reach"))
            #expect(rows.dropFirst().suffix(3).allSatisfy { $0[column] == String(reach) }, "\(rows)")
        }
    }
}
