import GRDB
import OmniPostCore

/// Where one published post's read-back stands (`post_checks`, migration v13): its verification — read
/// until the platform shows it as asked — and then its numbers on a schedule.
package struct PostCheckRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    package static let databaseTableName = "post_checks"
    package static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    package static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    package enum State: String, Codable, Sendable { case pending, verified, failed, notApplicable = "not_applicable" }
    /// Its numbers: not started (not verified yet), being read on schedule, the schedule is over, or the
    /// post is gone or private and nothing more will be read.
    package enum MetricsState: String, Codable, Sendable { case waiting, collecting, done, removed, `private`, none }

    package var deliveryId: Int64
    package var target: String
    package var platform: String
    package var account: String
    package var remoteId: String
    /// When the publish call answered (the delivery's upload end): ages in the series count from here.
    package var publishedAt: Double
    package var state: State
    package var reasonCode: String?
    /// The sentence a person reads: what the last read saw, or why it failed.
    package var detail: String?
    /// What the verifying read saw (a `SeenPost` as JSON).
    package var seenJson: String?
    package var reads: Int
    /// A read has shown the post: "not found" afterwards means it was taken down.
    package var shown: Bool
    package var nextReadAt: Double?
    package var verifiedAt: Double?
    package var metricsState: MetricsState
    /// How many of the metrics schedule's reads are done.
    package var metricsStep: Int
    package var nextMetricsAt: Double?
    package var updatedAt: Double
}

extension PostCheckRecord {
    /// A published delivery's read-back before its first read, as `enrolPublishedPosts` enters it.
    package init(deliveryId: Int64, target: String, platform: String, account: String, remoteId: String, publishedAt: Double) {
        self.init(
            deliveryId: deliveryId, target: target, platform: platform, account: account, remoteId: remoteId, publishedAt: publishedAt,
            state: .pending, reasonCode: nil, detail: nil, seenJson: nil, reads: 0, shown: false, nextReadAt: publishedAt, verifiedAt: nil,
            metricsState: .waiting, metricsStep: 0, nextMetricsAt: nil, updatedAt: publishedAt)
    }
}

/// One reading of a post's numbers (`post_metrics`): its columns are `PostMetrics`'s, snake-cased.
package struct PostMetricsRow: Sendable, Equatable {
    package var deliveryId: Int64
    package var at: Double
    /// Seconds since the post was published.
    package var ageSeconds: Double
    package var metrics: PostMetrics

    package init(deliveryId: Int64, at: Double, ageSeconds: Double, _ metrics: PostMetrics) {
        self.deliveryId = deliveryId
        self.at = at
        self.ageSeconds = ageSeconds
        self.metrics = metrics
    }

    init(row: SQLRow) {
        self.init(deliveryId: row.int("delivery_id") ?? 0, at: row.double("at") ?? 0, ageSeconds: row.double("age_seconds") ?? 0, PostMetrics(row: row))
    }

    /// Writes the reading, replacing one of the same moment (what SQLite's `INSERT OR REPLACE` did).
    func save(_ sql: any LedgerSQL) throws {
        let m = metrics
        try sql.run(
            """
            INSERT INTO post_metrics (delivery_id, at, age_seconds, views, likes, comments, shares, saves, watch_seconds, average_view_seconds, reach)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (delivery_id, at) DO UPDATE SET age_seconds = excluded.age_seconds, views = excluded.views, likes = excluded.likes,
              comments = excluded.comments, shares = excluded.shares, saves = excluded.saves, watch_seconds = excluded.watch_seconds,
              average_view_seconds = excluded.average_view_seconds, reach = excluded.reach
            """, deliveryId, at, ageSeconds, m.views, m.likes, m.comments, m.shares, m.saves, m.watchSeconds, m.averageViewSeconds, m.reach)
    }
}

extension PostMetrics {
    init(row: SQLRow) {
        self.init(
            views: row.int("views"), likes: row.int("likes"), comments: row.int("comments"), shares: row.int("shares"), saves: row.int("saves"),
            watchSeconds: row.double("watch_seconds"), averageViewSeconds: row.double("average_view_seconds"), reach: row.int("reach"))
    }
}
