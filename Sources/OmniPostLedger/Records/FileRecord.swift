import Foundation
import GRDB

/// A complete file the watcher saw in an inbox. Files are facts; pairing them into drops is a stage.
package struct FileRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "files"
    package static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    package static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    package enum Role: String, Codable, Sendable { case clip, sidecar, manifest, other }
    package enum State: String, Codable, Sendable {
        /// Complete and not yet part of a drop.
        case waiting
        /// Part of a drop (the drop owns it now).
        case taken
        /// Disappeared from the inbox before it was taken.
        case gone
    }

    package var id: Int64?
    package var path: String
    package var size: Int64
    package var mtime: Double
    package var inode: Int64
    package var role: Role
    package var state: State
    package var dropId: String?
    package var completedAt: Double

    package init(path: String, size: Int64, mtime: Double, inode: Int64, role: Role, completedAt: Double) {
        self.path = path
        self.size = size
        self.mtime = mtime
        self.inode = inode
        self.role = role
        self.state = .waiting
        self.completedAt = completedAt
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
