import GRDB

/// One follow-up a delivery owes after its post (a subtitle track…): kept as `intended` before its
/// request leaves, then `made` with the platform's id or `failed` with why. An `intended` row found
/// after a kill is settled by reading the platform back, never by sending blind.
package struct FollowUpRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    package static let databaseTableName = "follow_ups"
    package static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    package static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    package enum State: String, Codable, Sendable, CaseIterable { case intended, made, failed }

    package var deliveryId: Int64
    /// Unique within the delivery (`subtitles:en`).
    package var key: String
    package var kind: String
    package var state: State
    package var remoteId: String?
    package var detail: String?
    package var updatedAt: Double
}
