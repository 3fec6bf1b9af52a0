import Foundation
import GRDB
import OmniPostCore

extension Ledger {
    /// Records a complete file. Idempotent: a rescan that sees the same path again, unchanged, records nothing;
    /// a path already taken by a drop with the same inode and size is the same file, not a new one.
    /// True when the file is a new fact.
    @discardableResult
    package func recordCompleteFile(path: String, size: Int64, mtime: Double, inode: Int64, role: FileRecord.Role) throws -> Bool {
        try recordFile(path: path, size: size, mtime: mtime, inode: inode, role: role).isNew
    }

    /// What recording a complete file found.
    package struct RecordedFile: Sendable {
        /// A new fact (a new file, or a waiting file's newer content).
        package var isNew: Bool
        /// A clip or sidecar at the same path, different, that a drop still in flight had taken before this file was
        /// recorded: that drop had a file still being written. Looked up in the same transaction as the
        /// insert — looked up after it, a stage could already have paired the new row, and the new drop
        /// would read as its own predecessor.
        package var supersedes: (file: FileRecord, drop: DropRecord)?
    }

    @discardableResult
    package func recordFile(path: String, size: Int64, mtime: Double, inode: Int64, role: FileRecord.Role) throws -> RecordedFile {
        try write { db, events in
            if var live = try FileRecord.filter(Column("path") == path && Column("state") == FileRecord.State.waiting.rawValue).fetchOne(db) {
                if live.size == size && live.mtime == mtime && live.inode == inode { return RecordedFile(isNew: false) }
                // Rewritten in place before it was taken: the newer content is the fact.
                live.size = size; live.mtime = mtime; live.inode = inode; live.completedAt = self.now
                try live.update(db)
                return RecordedFile(isNew: true)
            }
            if try FileRecord.filter(
                Column("path") == path && Column("state") == FileRecord.State.taken.rawValue
                    && Column("inode") == inode && Column("size") == size && Column("mtime") == mtime
            ).fetchCount(db) > 0 {
                return RecordedFile(isNew: false)
            }
            // Renamed inside the inbox (same inode, size and mtime under a new name): the same file,
            // not a new drop. Its row and its drop follow the new name.
            if var moved = try FileRecord.fetchOne(
                db,
                sql: """
                    SELECT files.* FROM files LEFT JOIN drops ON drops.id = files.drop_id
                    WHERE files.inode = ? AND files.size = ? AND files.mtime = ? AND files.path != ?
                      AND (files.state = 'waiting' OR (files.state = 'taken' AND drops.state NOT IN ('archived','failed','withdrawn')))
                    LIMIT 1
                    """, arguments: [inode, size, mtime, path])
            {
                let old = moved.path
                moved.path = path
                try moved.update(db)
                if let dropId = moved.dropId {
                    try db.execute(sql: "UPDATE drops SET clip_path = ? WHERE id = ? AND clip_path = ?", arguments: [path, dropId, old])
                    try db.execute(sql: "UPDATE drops SET sidecar_path = ? WHERE id = ? AND sidecar_path = ?", arguments: [path, dropId, old])
                }
                var e = EventRecord(at: self.now, dropId: moved.dropId, stage: EventStage.watch.rawValue, toState: EventKind.renamed.rawValue, detail: "\(old) → \(path)")
                try e.insert(db)
                events.append(e)
                return RecordedFile(isNew: false)
            }
            var supersedes: (file: FileRecord, drop: DropRecord)?
            if let old = try FileRecord.fetchOne(
                db,
                sql: """
                    SELECT files.* FROM files JOIN drops ON drops.id = files.drop_id
                    WHERE files.path = ? AND files.state = 'taken' AND files.role IN ('clip','sidecar')
                      AND drops.state NOT IN ('archived','failed','withdrawn','rejected')
                    ORDER BY files.id DESC LIMIT 1
                    """, arguments: [path]), let dropId = old.dropId, let drop = try DropRecord.fetchOne(db, key: dropId)
            {
                supersedes = (old, drop)
            }
            var rec = FileRecord(path: path, size: size, mtime: mtime, inode: inode, role: role, completedAt: self.now)
            try rec.insert(db)
            var e = EventRecord(at: self.now, stage: EventStage.watch.rawValue, toState: EventKind.complete.rawValue, detail: path)
            try e.insert(db)
            events.append(e)
            return RecordedFile(isNew: true, supersedes: supersedes)
        }
    }

    /// Retires waiting rows at `paths`: newer versions of files a finished drop has just filed away
    /// (a sidecar saved again while its drop was uploading). They went with the drop; none is a drop.
    package func retireWaiting(paths: [String]) throws {
        guard !paths.isEmpty else { return }
        try write { db, _ in
            let marks = paths.map { _ in "?" }.joined(separator: ",")
            try db.execute(sql: "UPDATE files SET state = 'gone' WHERE state = 'waiting' AND path IN (\(marks))", arguments: StatementArguments(paths))
        }
    }

    /// Marks a file taken without making a drop of it (a clip-list manifest once all its entries have drops).
    package func takeFile(id: Int64) throws {
        try write { db, _ in
            try db.execute(sql: "UPDATE files SET state = 'taken' WHERE id = ? AND state = 'waiting'", arguments: [id])
        }
    }

    /// The drops already made from a clip-list manifest, by entry index.
    package func drops(fromManifestFile id: Int64) throws -> [Int: DropRecord] {
        try read { db in
            let rows = try DropRecord.filter(Column("source_file_id") == id).fetchAll(db)
            return Dictionary(rows.compactMap { d in d.manifestEntry.map { ($0, d) } }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// True while a file has not been taken (a clip list with entries still waiting for their clips).
    package func isWaiting(fileId: Int64) throws -> Bool {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM files WHERE id = ? AND state = 'waiting'", arguments: [fileId]) == 1 }
    }

    /// Drops other than `excluding` that still use a sidecar/manifest file and are not finished.
    package func otherOpenDrops(usingSidecar path: String, excluding id: String) throws -> Int {
        try read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM drops WHERE sidecar_path = ? AND id != ? AND state NOT IN ('archived','failed','withdrawn')",
                arguments: [path, id]) ?? 0
        }
    }

    /// The files a drop took from the inbox.
    package func files(ofDrop id: String) throws -> [FileRecord] {
        try read { db in try FileRecord.filter(Column("drop_id") == id).order(Column("path")).fetchAll(db) }
    }

    /// The newest file at one of `paths` that a drop has taken, with that drop.
    package func takenFile(atAny paths: [String]) throws -> (file: FileRecord, drop: DropRecord)? {
        try read { db in
            guard !paths.isEmpty else { return nil }
            let marks = paths.map { _ in "?" }.joined(separator: ",")
            guard
                let f = try FileRecord.fetchOne(
                    db, sql: "SELECT * FROM files WHERE state = 'taken' AND drop_id IS NOT NULL AND path IN (\(marks)) ORDER BY id DESC LIMIT 1",
                    arguments: StatementArguments(paths)),
                let dropId = f.dropId, let d = try DropRecord.fetchOne(db, key: dropId)
            else { return nil }
            return (f, d)
        }
    }

    /// Marks a waiting file gone (it vanished from the inbox before being taken).
    package func markFileGone(path: String) throws {
        try write { db, _ in
            try db.execute(sql: "UPDATE files SET state = 'gone' WHERE path = ? AND state = 'waiting'", arguments: [path])
        }
    }

    package func oldestWaitingFileTime() throws -> Double? {
        try read { db in try Double.fetchOne(db, sql: "SELECT MIN(completed_at) FROM files WHERE state = 'waiting' AND role != 'other'") }
    }

    /// Waiting files at any of `paths` (an indexed lookup, not a read of the whole waiting table).
    package func waitingFiles(atAny paths: [String]) throws -> [FileRecord] {
        guard !paths.isEmpty else { return [] }
        return try read { db in
            try FileRecord.filter(Column("state") == FileRecord.State.waiting.rawValue && paths.contains(Column("path"))).fetchAll(db)
        }
    }

    package func waitingFiles() throws -> [FileRecord] {
        try read { db in try FileRecord.filter(Column("state") == FileRecord.State.waiting.rawValue).order(Column("completed_at")).fetchAll(db) }
    }

    /// Creates a drop from waiting files in one transaction: the files become the drop's, so a
    /// second pairing pass (or a second worker) can never build the same drop twice.
    package func createDrop(_ drop: DropRecord, fileIDs: [Int64]) throws -> Bool {
        try write { db, events in
            let ids = fileIDs.map { "\($0)" }.joined(separator: ",")
            let waiting = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM files WHERE id IN (\(ids)) AND state = 'waiting'") ?? 0
            guard waiting == fileIDs.count else { return false }
            try drop.insert(db)
            try db.execute(sql: "UPDATE files SET state = 'taken', drop_id = ? WHERE id IN (\(ids))", arguments: [drop.id])
            var e = EventRecord(
                at: self.now, dropId: drop.id, stage: EventStage.watch.rawValue, fromState: nil, toState: DropState.received.rawValue,
                detail: [drop.clipPath, drop.sidecarPath].compactMap { $0 }.joined(separator: " + "))
            try e.insert(db)
            events.append(e)
            return true
        }
    }
}
