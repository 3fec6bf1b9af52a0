import GRDB

/// The circuit breaker of one platform+account: closed (uploads flow), open (paused until `openUntil`
/// after `failures` failed attempts in a row), half-open (one probe decides).
public struct BreakerRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "breakers"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public enum State: String, Codable, Sendable { case closed, open, halfOpen = "half_open" }

    public var account: String
    public var state: State
    public var failures: Int
    public var openUntil: Double?
    public var probeDelivery: Int64?
    public var probeUntil: Double?
    public var lastError: String?
    public var updatedAt: Double

    public init(account: String, state: State, failures: Int, updatedAt: Double) {
        self.account = account
        self.state = state
        self.failures = failures
        self.updatedAt = updatedAt
    }
}

/// One upload attempt: what it cost and how it ended.
public struct AttemptRecord: Codable, Sendable, Equatable, FetchableRecord {
    public static let databaseTableName = "attempts"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase

    public var id: Int64
    public var deliveryId: Int64
    public var number: Int
    public var owner: String
    public var account: String
    public var startedAt: Double
    public var finishedAt: Double?
    public var outcome: String?
    public var errorCode: String?
    public var httpStatus: Int?
    public var bytesSent: Int64
    public var detail: String?

    public var durationS: Double? { finishedAt.map { $0 - startedAt } }
}
