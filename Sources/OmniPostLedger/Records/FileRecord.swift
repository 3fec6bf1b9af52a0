import Foundation
import GRDB

/// A complete file the watcher saw in an inbox. Files are facts; pairing them into drops is a stage.
public struct FileRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "files"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public enum Role: String, Codable, Sendable { case clip, sidecar, manifest, other }
    public enum State: String, Codable, Sendable {
        /// Complete and not yet part of a drop.
        case waiting
        /// Part of a drop (the drop owns it now).
        case taken
        /// Disappeared from the inbox before it was taken.
        case gone
    }

    public var id: Int64?
    public var path: String
    public var size: Int64
    public var mtime: Double
    public var inode: Int64
    public var role: Role
    public var state: State
    public var dropId: String?
    public var completedAt: Double

    public init(path: String, size: Int64, mtime: Double, inode: Int64, role: Role, completedAt: Double) {
        self.path = path
        self.size = size
        self.mtime = mtime
        self.inode = inode
        self.role = role
        self.state = .waiting
        self.completedAt = completedAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
