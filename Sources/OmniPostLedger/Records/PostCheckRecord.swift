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

/// One reading of a post's numbers (`post_metrics`): its columns are `PostMetrics`'s, snake-cased.
package struct PostMetricsRow: Sendable, Equatable, FetchableRecord, PersistableRecord {
    package static let databaseTableName = "post_metrics"

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

    package init(row: Row) throws {
        self.init(deliveryId: row["delivery_id"], at: row["at"], ageSeconds: row["age_seconds"], PostMetrics(row: row))
    }

    package func encode(to container: inout PersistenceContainer) throws {
        container["delivery_id"] = deliveryId
        container["at"] = at
        container["age_seconds"] = ageSeconds
        metrics.encode(to: &container)
    }
}

extension PostMetrics {
    /// The numbers from a row holding `post_metrics`'s columns (all null where no reading was joined).
    init(row: Row) {
        self.init(
            views: row["views"], likes: row["likes"], comments: row["comments"], shares: row["shares"], saves: row["saves"],
            watchSeconds: row["watch_seconds"], averageViewSeconds: row["average_view_seconds"], reach: row["reach"])
    }

    func encode(to container: inout PersistenceContainer) {
        container["views"] = views
        container["likes"] = likes
        container["comments"] = comments
        container["shares"] = shares
        container["saves"] = saves
        container["watch_seconds"] = watchSeconds
        container["average_view_seconds"] = averageViewSeconds
        container["reach"] = reach
    }
}
