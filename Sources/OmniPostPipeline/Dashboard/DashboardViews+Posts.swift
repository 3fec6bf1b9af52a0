import Foundation
import OmniPostCore
import OmniPostLedger

extension DashboardViews {
    /// How many posts the Posts page shows, the newest.
    static let postsShown = 200

    /// The Posts page (issue 25): every post published in the last 90 days, newest first, with its
    /// verification (or the alert's reason), its latest numbers and engagement rate, and a sparkline of
    /// its views (likes where the platform counts no views) drawn on the server.
    func postsPage() throws -> [String: Any] {
        let readings = try ledger.postReadings(since: now - 90 * 86_400).suffix(Self.postsShown).reversed()
        let posts: [[String: Any]] = try readings.map { r in
            let series = try ledger.postMetrics(deliveryId: r.id)
            let views = series.compactMap { m in m.metrics.views.map { (t: m.at, v: Double($0)) } }
            let likes = series.compactMap { m in m.metrics.likes.map { (t: m.at, v: Double($0)) } }
            let m = r.metrics
            var row: [String: Any] = [
                "delivery": r.id, "target": r.target, "remoteId": r.remoteId ?? "", "published": isoStamp(r.publishedAt),
                "verified": r.verification ?? "pending", "ok": r.verification == "verified", "bad": r.verification == "failed",
                "numbers": [("views", m.views), ("likes", m.likes), ("comments", m.comments), ("shares", m.shares), ("saves", m.saves)]
                    .compactMap { n, v in v.map { "\($0) \(n)" } }.joined(separator: " · "),
                "spark": views.count >= 2 ? SVGChart.sparkline(views, unit: "views") : SVGChart.sparkline(likes, unit: "likes")
            ]
            if let reason = r.reasonCode { row["reason"] = reason }
            if let rate = m.engagementRate { row["engagement"] = String(format: "%.2f%%", rate * 100) }
            if let at = r.readAt { row["readAt"] = isoStamp(at) }
            return row
        }
        return ["posts": posts, "anyPosts": !posts.isEmpty]
    }
}
