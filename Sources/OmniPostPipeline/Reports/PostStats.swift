import Foundation
import OmniPostCore
import OmniPostLedger

/// `omnipost stats` (issue 25): per platform and account — posts, success rate, median and p95 upload
/// time and speed, rate-limit hits, failures by reason code, last success; per post — its latest numbers
/// and engagement rate (README, "After the post"); and best posting times — the hour of the week (UTC)
/// whose posts drew the highest mean engagement rate, per account, only once a slot holds `minimumSample` posts.
package struct PostStats: Codable, Sendable {
    package struct Account: Codable, Sendable, Equatable {
        package var platform: String
        package var account: String
        package var posts: Int
        package var failed: Int
        package var successRate: Double?
        package var medianUploadSeconds: Double?
        package var p95UploadSeconds: Double?
        /// Bytes per second of the uploads that published.
        package var medianSpeed: Double?
        package var p95Speed: Double?
        package var rateLimitHits: Int
        package var failuresByReason: [String: Int]
        package var lastSuccess: Date?
    }
    package struct Post: Codable, Sendable, Equatable {
        package var delivery: Int64
        package var target: String
        package var remoteId: String?
        package var publishedAt: Date
        package var verified: String?
        package var reason: String?
        package var readAt: Date?
        package var metrics: PostMetrics
        package var engagementRate: Double?
    }
    /// One hour of the week (0 = Monday 00:00–01:00 … 167 = Sunday 23:00, in `zone`) for one account.
    package struct Slot: Codable, Sendable, Equatable {
        package var hourOfWeek: Int
        package var label: String
        package var sample: Int
        package var meanEngagementRate: Double
    }
    package struct BestTimes: Codable, Sendable, Equatable {
        package var account: String
        package var slots: [Slot]
        /// The best slot with at least `minimumSample` posts; nil until one has.
        package var recommended: Slot?
    }

    package var since: Date
    package var accounts: [Account]
    package var posts: [Post]
    package var bestTimes: [BestTimes]
    package var minimumSample: Int
    /// The time zone hours of the week are counted in (the pipeline's `schedule.zone`).
    package var zone: String = "UTC"

    package static func gather(
        ledger: Ledger, since: Date, platform: String? = nil, account: String? = nil, minimumSample: Int = 3, zone: String = "UTC"
    ) throws -> PostStats {
        let t = since.timeIntervalSince1970
        let ended = try ledger.endedDeliveries(since: t, platform: platform, account: account)
        let hits = try ledger.rateLimitHits(since: t, platform: platform, account: account)
        let readings = try ledger.postReadings(since: t, platform: platform, account: account)
        var accounts: [Account] = []
        for (key, list) in Dictionary(grouping: ended, by: { "\($0.platform):\($0.account)" }).sorted(by: { $0.key < $1.key }) {
            let ok = list.filter { $0.state == "published" }
            let failed = list.filter { $0.state == "failed" }
            let timed = ok.compactMap { d -> (Double, Double)? in
                guard let s = d.uploadStartedAt, let f = d.uploadFinishedAt, f > s else { return nil }
                return (f - s, Double(d.bytesSent) / (f - s))
            }
            let seconds = timed.map(\.0).sorted(), speeds = timed.map(\.1).sorted()
            accounts.append(
                Account(
                    platform: list[0].platform, account: list[0].account, posts: ok.count, failed: failed.count,
                    successRate: list.isEmpty ? nil : Double(ok.count) / Double(list.count),
                    medianUploadSeconds: percentile(seconds, 0.5), p95UploadSeconds: percentile(seconds, 0.95),
                    medianSpeed: percentile(speeds, 0.5), p95Speed: percentile(speeds, 0.95), rateLimitHits: hits[key] ?? 0,
                    failuresByReason: Dictionary(grouping: failed, by: { $0.errorCode ?? "unknown" }).mapValues(\.count),
                    lastSuccess: ok.map(\.endedAt).max().map { Date(timeIntervalSince1970: $0) }))
        }
        let posts = readings.map { r in
            Post(
                delivery: r.id, target: r.target, remoteId: r.remoteId, publishedAt: Date(timeIntervalSince1970: r.publishedAt), verified: r.verification,
                reason: r.reasonCode, readAt: r.readAt.map { Date(timeIntervalSince1970: $0) }, metrics: r.metrics, engagementRate: r.metrics.engagementRate)
        }
        return PostStats(
            since: since, accounts: accounts, posts: posts, bestTimes: bestTimes(readings, minimumSample: minimumSample, zone: zone), minimumSample: minimumSample,
            zone: zone)
    }

    /// Nearest-rank percentile of sorted values.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count, max(1, rank)) - 1]
    }

    static func hourOfWeek(_ t: Double, zone: String = "UTC") -> Int {
        var cal = Calendar(identifier: .iso8601)
        cal.timeZone = TimeZone(identifier: zone) ?? TimeZone(identifier: "UTC")!
        let d = Date(timeIntervalSince1970: t)
        let weekday = (cal.component(.weekday, from: d) + 5) % 7  // Monday 0 … Sunday 6
        return weekday * 24 + cal.component(.hour, from: d)
    }

    static func label(_ h: Int, zone: String = "UTC") -> String {
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][h / 24] + String(format: " %02d:00 ", h % 24) + zone
    }

    /// Per account: each hour of the week its posts went out in, with the mean engagement rate of their
    /// latest readings (posts with no rate — no views — are left out of the sample).
    /// Hours are the zone's wall-clock hours, so 09:00 Berlin stays one slot across a daylight-saving change.
    package static func bestTimes(_ readings: [Ledger.PostReading], minimumSample: Int, zone: String = "UTC") -> [BestTimes] {
        Dictionary(grouping: readings, by: { "\($0.platform):\($0.account)" }).sorted(by: { $0.key < $1.key }).map { key, list in
            let rated = list.compactMap { r in r.metrics.engagementRate.map { (hourOfWeek(r.publishedAt, zone: zone), $0) } }
            let slots = Dictionary(grouping: rated, by: \.0).map { h, xs in
                Slot(hourOfWeek: h, label: label(h, zone: zone), sample: xs.count, meanEngagementRate: xs.map(\.1).reduce(0, +) / Double(xs.count))
            }.sorted { ($0.meanEngagementRate, -$0.hourOfWeek) > ($1.meanEngagementRate, -$1.hourOfWeek) }
            return BestTimes(account: key, slots: slots, recommended: slots.first { $0.sample >= minimumSample })
        }
    }
}
