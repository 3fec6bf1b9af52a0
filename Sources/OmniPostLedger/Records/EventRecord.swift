import Foundation
import GRDB

/// One state transition: the audit trail that status, reports and progress output are built from.
public struct EventRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "events"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: Int64?
    public var at: Double
    public var dropId: String?
    public var deliveryId: Int64?
    public var target: String?
    public var stage: String
    public var fromState: String?
    public var toState: String
    public var detail: String?

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
