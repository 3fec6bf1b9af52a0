import Foundation
import OmniPostCore
import Testing

/// The queue forecast (`omnipost plan`, the dashboard's queue) applies the claim's rules: order, schedule,
/// breaker, and each quota spent as the ones ahead go.
@Suite struct QueueForecastTests {
    static let youtube = QuotaRule(name: "upload_units", limit: 10000, cost: 1600, window: .calendarDay(zone: "America/Los_Angeles"))
    static let tiktok = QuotaRule(name: "posts", limit: 2, window: .rolling(seconds: 86400))
    /// 2026-12-05 18:00 UTC = 10:00 in Los Angeles.
    static let now = Date(timeIntervalSince1970: 1_796_493_600)

    @Test func aSpentDailyQuotaWaitsForMidnightInItsZoneAndSaysSo() {
        // Five inserts today already (8000 units): the sixth fits, the seventh waits for midnight PT.
        let spent = (0..<5).map { (at: Self.now.addingTimeInterval(Double(-$0) * 600), units: 1600) }
        let f = QueueForecast(rules: ["youtube": [Self.youtube]], spent: ["youtube:main|upload_units": spent])
        let items = [1, 2].map { QueueForecast.Item(id: Int64($0), platform: "youtube", accountKey: "youtube:main") }
        let out = f.run(items, now: Self.now)
        #expect(out[1]?.goesAt == Self.now && out[1]?.waits == [])
        #expect(out[1]?.quotas == [QueueForecast.QuotaUse(rule: "upload_units", used: 9600, limit: 10000, cost: 1600)])
        // Midnight in Los Angeles on the 6th is 08:00 UTC.
        let midnight = Date(timeIntervalSince1970: 1_796_544_000)
        #expect(out[2]?.goesAt == midnight)
        #expect(out[2]?.waits.first?.contains("room again at 2026-12-06 00:00 America/Los_Angeles") == true, "\(out[2]?.waits ?? [])")
        #expect(out[2]?.quotas.first?.used == 1600)
    }

    @Test func orderIsPriorityThenWaitThenIdAndAResumedSessionSpendsNothing() {
        let f = QueueForecast(rules: ["tiktok": [Self.tiktok]])
        let items = [
            QueueForecast.Item(id: 1, platform: "tiktok", accountKey: "tiktok:a"),
            QueueForecast.Item(id: 2, platform: "tiktok", accountKey: "tiktok:a", priority: 5),
            QueueForecast.Item(id: 3, platform: "tiktok", accountKey: "tiktok:a", spends: false),
            QueueForecast.Item(id: 4, platform: "tiktok", accountKey: "tiktok:a"),
            QueueForecast.Item(id: 5, platform: "tiktok", accountKey: "tiktok:b")
        ]
        let out = f.run(items, now: Self.now)
        // 2 (priority) and 1 spend the two posts; 3 resumes (free); 4 waits a rolling day after the first spend.
        #expect(out[2]?.goesAt == Self.now && out[1]?.goesAt == Self.now && out[3]?.goesAt == Self.now)
        #expect(out[4]?.goesAt == Self.now.addingTimeInterval(86400))
        #expect(out[5]?.goesAt == Self.now, "another account has its own quota")
    }

    @Test func aRuleADeliveryAlreadyPaidThisRoundIsNotSpentAgain() {
        // 1 is in flight with both rules charged, 2 with its hourly upload charged (the ledger holds those charges).
        let both = [Self.tiktok, QuotaRule(name: "uploads", limit: 2, window: .rolling(seconds: 3600))]
        let charged = Self.now.addingTimeInterval(-60)
        let f = QueueForecast(
            rules: ["tiktok": both], spent: ["tiktok:a|posts": [(charged, 1)], "tiktok:a|uploads": [(charged, 1), (charged, 1)]],
            paid: [1: ["posts", "uploads"], 2: ["uploads"]])
        let out = f.run((1...3).map { QueueForecast.Item(id: Int64($0), platform: "tiktok", accountKey: "tiktok:a") }, now: Self.now)
        #expect(out[1]?.goesAt == Self.now && out[1]?.quotas == [], "both rules paid: spends nothing")
        #expect(out[2]?.goesAt == Self.now && out[2]?.quotas == [QueueForecast.QuotaUse(rule: "posts", used: 2, limit: 2, cost: 1)], "only the rule not yet paid")
        #expect(out[3]?.goesAt == charged.addingTimeInterval(86400), "the day's two posts are 1's and 2's")
    }

    @Test func aScheduleAndAnOpenBreakerHoldAndTheLimitAPlatformReportedCounts() {
        let later = Self.now.addingTimeInterval(3600)
        let f = QueueForecast(
            rules: ["tiktok": [Self.tiktok]], observedLimits: ["tiktok:a|posts": 1],
            breakerOpenUntil: ["tiktok:b": Self.now.addingTimeInterval(300)])
        let out = f.run(
            [
                QueueForecast.Item(id: 1, platform: "tiktok", accountKey: "tiktok:a", notBefore: later),
                QueueForecast.Item(id: 2, platform: "tiktok", accountKey: "tiktok:a", notBefore: later),
                QueueForecast.Item(id: 3, platform: "tiktok", accountKey: "tiktok:b")
            ], now: Self.now)
        #expect(out[1]?.goesAt == later)
        #expect(out[1]?.quotas.first?.limit == 1)
        #expect(out[2]?.goesAt == later.addingTimeInterval(86400), "the platform said one post a day for this account")
        #expect(out[3]?.goesAt == Self.now.addingTimeInterval(300))
        #expect(out[3]?.waits.first?.contains("breaker is open") == true)
    }
}
