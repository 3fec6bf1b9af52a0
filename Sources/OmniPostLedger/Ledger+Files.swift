import Foundation
import GRDB
import OmniPostCore

extension Ledger {
    /// Records a complete file. Idempotent: a rescan that sees the same path again, unchanged, records nothing;
    /// a path already taken by a drop with the same inode and size is the same file, not a new one.
    @discardableResult
    public func recordCompleteFile(path: String, size: Int64, mtime: Double, inode: Int64, role: FileRecord.Role) throws -> Bool {
        try write { db, events in
            if var live = try FileRecord.filter(Column("path") == path && Column("state") == FileRecord.State.waiting.rawValue).fetchOne(db) {
                if live.size == size && live.mtime == mtime && live.inode == inode { return false }
                // Rewritten in place before it was taken: the newer content is the fact.
                live.size = size; live.mtime = mtime; live.inode = inode; live.completedAt = self.now
                try live.update(db)
                return true
            }
            if try FileRecord.filter(Column("path") == path && Column("state") == FileRecord.State.taken.rawValue
                && Column("inode") == inode && Column("size") == size && Column("mtime") == mtime).fetchCount(db) > 0 {
                return false
            }
            var rec = FileRecord(path: path, size: size, mtime: mtime, inode: inode, role: role, completedAt: self.now)
            try rec.insert(db)
            events.append(EventRecord(at: self.now, stage: "watch", toState: "complete", detail: path))
            try events.last!.insertCopy(db)
            return true
        }
    }

    /// Marks a waiting file gone (it vanished from the inbox before being taken).
    public func markFileGone(path: String) throws {
        try write { db, _ in
            try db.execute(sql: "UPDATE files SET state = 'gone' WHERE path = ? AND state = 'waiting'", arguments: [path])
        }
    }

    public func waitingFiles() throws -> [FileRecord] {
        try read { db in try FileRecord.filter(Column("state") == FileRecord.State.waiting.rawValue).order(Column("completed_at")).fetchAll(db) }
    }

    /// True when a path is known to the ledger as a live or taken file with this identity.
    public func isKnown(path: String, size: Int64, mtime: Double, inode: Int64) throws -> Bool {
        try read { db in
            try FileRecord.filter(Column("path") == path && Column("size") == size && Column("mtime") == mtime
                && Column("inode") == inode && Column("state") != FileRecord.State.gone.rawValue).fetchCount(db) > 0
        }
    }

    /// Creates a drop from waiting files in one transaction: the files become the drop's, so a
    /// second pairing pass (or a second worker) can never build the same drop twice.
    public func createDrop(_ drop: DropRecord, fileIDs: [Int64]) throws -> Bool {
        try write { db, events in
            let ids = fileIDs.map { "\($0)" }.joined(separator: ",")
            let waiting = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM files WHERE id IN (\(ids)) AND state = 'waiting'") ?? 0
            guard waiting == fileIDs.count else { return false }
            try drop.insert(db)
            try db.execute(sql: "UPDATE files SET state = 'taken', drop_id = ? WHERE id IN (\(ids))", arguments: [drop.id])
            var e = EventRecord(at: self.now, dropId: drop.id, stage: "watch", fromState: nil, toState: DropState.received.rawValue,
                                detail: [drop.clipPath, drop.sidecarPath].compactMap { $0 }.joined(separator: " + "))
            try e.insert(db)
            events.append(e)
            return true
        }
    }
}

extension EventRecord {
    public init(at: Double, dropId: String? = nil, deliveryId: Int64? = nil, target: String? = nil, stage: String,
                fromState: String? = nil, toState: String, detail: String? = nil) {
        self.at = at
        self.dropId = dropId
        self.deliveryId = deliveryId
        self.target = target
        self.stage = stage
        self.fromState = fromState
        self.toState = toState
        self.detail = detail
    }

    func insertCopy(_ db: Database) throws {
        var copy = self
        try copy.insert(db)
    }
}
