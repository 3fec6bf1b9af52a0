import GRDB

/// The circuit breaker of one platform+account: closed (uploads flow), open (paused until `openUntil`
/// after `failures` failed attempts in a row), half-open (one probe decides).
package struct BreakerRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    package static let databaseTableName = "breakers"
    package static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    package static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    package enum State: String, Codable, Sendable { case closed, open, halfOpen = "half_open" }

    package var account: String
    package var state: State
    package var failures: Int
    package var openUntil: Double?
    package var probeDelivery: Int64?
    package var probeUntil: Double?
    package var lastError: String?
    package var updatedAt: Double

    package init(account: String, state: State, failures: Int, updatedAt: Double) {
        self.account = account
        self.state = state
        self.failures = failures
        self.updatedAt = updatedAt
    }
}

/// One upload attempt: what it cost and how it ended.
package struct AttemptRecord: Codable, Sendable, Equatable, FetchableRecord {
    package static let databaseTableName = "attempts"
    package static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase

    package var id: Int64
    package var deliveryId: Int64
    package var number: Int
    package var owner: String
    package var account: String
    package var startedAt: Double
    package var finishedAt: Double?
    package var outcome: String?
    package var errorCode: String?
    package var httpStatus: Int?
    package var bytesSent: Int64
    package var detail: String?

    package var durationS: Double? { finishedAt.map { $0 - startedAt } }
}
