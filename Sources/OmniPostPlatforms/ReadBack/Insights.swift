import OmniPostCore

/// A platform's second API for a post's numbers (issue 25), as descriptor data: the numbers its read-back
/// endpoint lacks (YouTube's watch time from YouTube Analytics, Instagram's views and reach from the media's
/// insights). Read on the same metrics schedule as the read-back, into the same series; a reading fills only
/// what the read-back did not give (`PostMetrics.filled(from:)`).
package struct Insights: Sendable {
    /// Its name in the platform's documentation (`youtubeAnalytics.reports.query`), for messages.
    package var api: String
    /// Post ids one call takes (YouTube Analytics: a `video==a,b,…` filter; Graph insights: one).
    package var batch: Int
    /// Units each call spends from the account's quota rule `rule` (shown in the quota meters); nil: none counted.
    package var cost: Int
    package var rule: String?
    /// The permission the call needs, as the platform names it (a scope; a Meta permission).
    package var permission: String
    /// Our metric names it gives (`PostMetrics`' fields, snake-cased as in the ledger), for the README.
    package var gives: [String]

    package init(api: String, batch: Int = 1, cost: Int = 0, rule: String? = nil, permission: String, gives: [String]) {
        self.api = api
        self.batch = max(1, batch)
        self.cost = cost
        self.rule = rule
        self.permission = permission
        self.gives = gives
    }

    /// The quota rule a call spends from, and how many units.
    package var quota: (rule: String, cost: Int)? {
        if let rule, cost > 0 { return (rule, cost) }
        return nil
    }
}

extension PlatformDescriptor {
    /// The descriptor with its second API for a post's numbers.
    package func withInsights(_ insights: Insights) -> PlatformDescriptor {
        var d = self
        d.insights = insights
        return d
    }
}
