import Foundation
import OmniPostCore
import OmniPostLedger

/// `omnipost stats --compare platform|account` (issue 25): platforms or accounts side by side over the
/// same window, each row the same columns — uploads (published, failed, success rate, median and p95
/// upload time, rate-limit hits, last success) and the posts' latest numbers (totals over the posts, the
/// mean engagement rate of the posts that have one). Reach is not totalled: accounts reached by two posts
/// overlap, so a sum would count people twice.
package struct PostCompare: Codable, Sendable {
    package enum By: String, Codable, Sendable, CaseIterable { case platform, account }

    package struct Row: Codable, Sendable, Equatable {
        /// The platform (`youtube`) or the account (`youtube:main`).
        package var key: String
        package var published: Int
        package var failed: Int
        package var successRate: Double?
        package var medianUploadSeconds: Double?
        package var p95UploadSeconds: Double?
        package var rateLimitHits: Int
        package var lastSuccess: Date?
        /// Published posts with at least one reading.
        package var posts: Int
        package var views: Int64?
        package var likes: Int64?
        package var comments: Int64?
        package var shares: Int64?
        package var saves: Int64?
        /// Mean of the posts' engagement rates (those with views); nil when none has one.
        package var meanEngagementRate: Double?
        package var rated: Int
    }

    package var since: Date
    package var by: By
    package var rows: [Row]

    package static func gather(ledger: Ledger, since: Date, by: By, platform: String? = nil, account: String? = nil) throws -> PostCompare {
        let t = since.timeIntervalSince1970
        let ended = try ledger.endedDeliveries(since: t, platform: platform, account: account)
        let hits = try ledger.rateLimitHits(since: t, platform: platform, account: account)
        let readings = try ledger.postReadings(since: t, platform: platform, account: account)
        func key(_ platform: String, _ account: String) -> String { by == .platform ? platform : "\(platform):\(account)" }
        let endedBy = Dictionary(grouping: ended) { key($0.platform, $0.account) }
        let readBy = Dictionary(grouping: readings.filter { $0.readAt != nil }) { key($0.platform, $0.account) }
        var hitsBy: [String: Int] = [:]
        for (who, n) in hits {
            let parts = who.split(separator: ":", maxSplits: 1).map(String.init)
            hitsBy[key(parts[0], parts.count > 1 ? parts[1] : ""), default: 0] += n
        }
        let rows = Set(endedBy.keys).union(readBy.keys).sorted().map { k -> Row in
            let list = endedBy[k] ?? []
            let ok = list.filter { $0.state == "published" }
            let seconds = ok.compactMap { d -> Double? in
                guard let s = d.uploadStartedAt, let f = d.uploadFinishedAt, f > s else { return nil }
                return f - s
            }.sorted()
            let read = (readBy[k] ?? []).map(\.metrics)
            let rates = read.compactMap(\.engagementRate)
            // A number no post of the row has is none, not zero.
            func total(_ f: (PostMetrics) -> Int64?) -> Int64? {
                let xs = read.compactMap(f)
                return xs.isEmpty ? nil : xs.reduce(0, +)
            }
            return Row(
                key: k, published: ok.count, failed: list.count - ok.count, successRate: list.isEmpty ? nil : Double(ok.count) / Double(list.count),
                medianUploadSeconds: PostStats.percentile(seconds, 0.5), p95UploadSeconds: PostStats.percentile(seconds, 0.95), rateLimitHits: hitsBy[k] ?? 0,
                lastSuccess: ok.map(\.endedAt).max().map { Date(timeIntervalSince1970: $0) }, posts: read.count, views: total(\.views),
                likes: total(\.likes), comments: total(\.comments), shares: total(\.shares), saves: total(\.saves),
                meanEngagementRate: rates.isEmpty ? nil : rates.reduce(0, +) / Double(rates.count), rated: rates.count)
        }
        return PostCompare(since: since, by: by, rows: rows)
    }

    static let columns = [
        "published", "failed", "success_rate", "median_upload_s", "p95_upload_s", "rate_limit_hits", "last_success", "posts_read", "views", "likes",
        "comments", "shares", "saves", "mean_engagement_rate", "rated_posts"
    ]

    func fields(_ r: Row) -> [String] {
        [
            String(r.published), String(r.failed), PostStats.num(r.successRate, 4), PostStats.num(r.medianUploadSeconds, 3), PostStats.num(r.p95UploadSeconds, 3),
            String(r.rateLimitHits), r.lastSuccess.map(isoStamp) ?? "", String(r.posts), PostStats.int(r.views), PostStats.int(r.likes), PostStats.int(r.comments),
            PostStats.int(r.shares), PostStats.int(r.saves), PostStats.num(r.meanEngagementRate, 4), String(r.rated)
        ]
    }

    package func json() throws -> String { String(decoding: try JSONCoding.encoder().encode(self), as: UTF8.self) }

    /// One table: the compared key, then the same columns for every row.
    package func csv() -> String {
        CSV.line([by.rawValue] + Self.columns) + rows.map { CSV.line([$0.key] + fields($0)) }.joined()
    }

    /// The rows side by side, in aligned columns.
    package func text() -> String {
        let header = [by.rawValue] + Self.columns
        let body = rows.map { [$0.key] + fields($0).map { $0.isEmpty ? "–" : $0 } }
        let widths = header.indices.map { i in ([header[i]] + body.map { $0[i] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == 0 ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[i] - c.count) + c }
                .joined(separator: "  ")
        }
        return (["since \(isoStamp(since)), by \(by.rawValue)", "", line(header)] + body.map(line)).joined(separator: "\n")
    }
}
