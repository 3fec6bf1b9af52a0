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
        // Best times per account, in the schedule's zone, as `omnipost stats` answers them.
        let zone = ctx.config.schedule.zone
        let best = PostStats.bestTimes(try ledger.postReadings(since: now - 90 * 86_400), minimumSample: ctx.config.schedule.minimumSample, zone: zone)
        let heat: [[String: Any]] = best.map { b in
            [
                "account": b.account, "recommended": b.recommended.map { "\($0.label) (\($0.sample) posts)" } ?? "none yet",
                "map": SVGChart.heatMap(
                    b.account, b.slots.map { ($0.hourOfWeek, $0.label, $0.sample, $0.meanEngagementRate) }, recommended: b.recommended?.hourOfWeek)
            ]
        }
        return [
            "posts": posts, "anyPosts": !posts.isEmpty, "best": heat, "anyBest": !heat.isEmpty, "zone": zone,
            "minimumSample": ctx.config.schedule.minimumSample
        ]
    }

    /// One post's page: its verification and each number it has over its life, a chart per number
    /// (views, likes, comments, shares, saves, reach, watch time, average view duration), drawn on the server.
    func postPage(_ id: Int64) throws -> [String: Any]? {
        guard let d = try ledger.delivery(id), d.state == .published else { return nil }
        let check = try ledger.postCheck(deliveryId: id)
        let series = try ledger.postMetrics(deliveryId: id)
        let numbers: [(String, String, (PostMetrics) -> Double?)] = [
            ("Views", "views", { $0.views.map(Double.init) }), ("Likes", "likes", { $0.likes.map(Double.init) }),
            ("Comments", "comments", { $0.comments.map(Double.init) }), ("Shares", "shares", { $0.shares.map(Double.init) }),
            ("Saves", "saves", { $0.saves.map(Double.init) }), ("Reach", "accounts", { $0.reach.map(Double.init) }),
            ("Watch time", "seconds", { $0.watchSeconds }), ("Average view", "seconds", { $0.averageViewSeconds })
        ]
        let charts: [[String: Any]] = numbers.compactMap { name, unit, value in
            let points = series.compactMap { r in value(r.metrics).map { (t: r.at, v: $0) } }
            guard !points.isEmpty else { return nil }
            return ["name": name, "chart": SVGChart.series("\(name) of \(d.target) \(d.remoteId ?? "")", points, unit: unit), "readings": points.count]
        }
        var post: [String: Any] = [
            "delivery": id, "target": d.target, "remoteId": d.remoteId ?? "", "url": d.remoteUrl ?? "", "verified": check?.state.rawValue ?? "pending",
            "ok": check?.state == .verified, "bad": check?.state == .failed, "readings": series.count, "charts": charts, "anyCharts": !charts.isEmpty
        ]
        if let at = d.uploadFinishedAt { post["published"] = isoStamp(at) }
        if let r = check?.reasonCode { post["reason"] = r }
        if let detail = check?.detail { post["detail"] = detail }
        return post
    }
}
