import Foundation
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

    /// `files_identity`'s condition (v18), said beside a narrower one where a path's taken rows are looked
    /// up: SQLite uses a partial index only for a query that states its condition, and `files_path`, which
    /// served these lookups before, is gone (v21).
    static let liveFile = "state IN ('waiting','taken')"

    /// `gaveUpWaiting`: the watcher's note that the file was taken as it is after waiting for the rest of
    /// it (`ArrivalCheck`), written in this commit rather than one of its own.
    @discardableResult
    package func recordFile(path: String, size: Int64, mtime: Double, inode: Int64, role: FileRecord.Role, gaveUpWaiting: String? = nil) throws -> RecordedFile {
        try writeSQL { sql, events in
            if let gaveUpWaiting {
                try Self.record(
                    EventRecord(at: self.now, stage: EventStage.watch.rawValue, toState: EventKind.gaveUpWaiting.rawValue, detail: gaveUpWaiting), sql, &events)
            }
            return try self.recordFile(path: path, size: size, mtime: mtime, inode: inode, role: role, sql, &events)
        }
    }

    private func recordFile(
        path: String, size: Int64, mtime: Double, inode: Int64, role: FileRecord.Role, _ sql: any LedgerSQL, _ events: inout [EventRecord]
    ) throws -> RecordedFile {
        if var live = try sql.fetchOne(FileRecord.self, "SELECT * FROM files WHERE path = ? AND state = 'waiting' LIMIT 1", [.text(path)]) {
            if live.size == size && live.mtime == mtime && live.inode == inode { return RecordedFile(isNew: false) }
            // Rewritten in place before it was taken: the newer content is the fact.
            live.size = size; live.mtime = mtime; live.inode = inode; live.completedAt = self.now
            try sql.update(live, in: "files")
            return RecordedFile(isNew: true)
        }
        if try sql.int(
            "SELECT COUNT(*) AS n FROM files WHERE path = ? AND state = 'taken' AND \(Self.liveFile) AND inode = ? AND size = ? AND mtime = ?",
            [.text(path), .integer(inode), .integer(size), .real(mtime)]) ?? 0 > 0
        {
            return RecordedFile(isNew: false)
        }
        // Renamed inside the inbox (same inode, size and mtime under a new name): the same file,
        // not a new drop. Its row and its drop follow the new name.
        if var moved = try sql.fetchOne(
            FileRecord.self,
            """
            SELECT files.* FROM files LEFT JOIN drops ON drops.id = files.drop_id
            WHERE files.inode = ? AND files.size = ? AND files.mtime = ? AND files.path != ?
              AND (files.state = 'waiting' OR (files.state = 'taken' AND drops.state NOT IN ('archived','failed','withdrawn')))
            LIMIT 1
            """, [.integer(inode), .integer(size), .real(mtime), .text(path)])
        {
            let old = moved.path
            moved.path = path
            try sql.update(moved, in: "files")
            if let dropId = moved.dropId {
                try sql.run("UPDATE drops SET clip_path = ? WHERE id = ? AND clip_path = ?", path, dropId, old)
                try sql.run("UPDATE drops SET sidecar_path = ? WHERE id = ? AND sidecar_path = ?", path, dropId, old)
            }
            try Self.record(
                EventRecord(at: self.now, dropId: moved.dropId, stage: EventStage.watch.rawValue, toState: EventKind.renamed.rawValue, detail: "\(old) → \(path)"),
                sql, &events)
            return RecordedFile(isNew: false)
        }
        var supersedes: (file: FileRecord, drop: DropRecord)?
        if let old = try sql.fetchOne(
            FileRecord.self,
            """
            SELECT files.* FROM files JOIN drops ON drops.id = files.drop_id
            WHERE files.path = ? AND files.state = 'taken' AND files.\(Self.liveFile) AND files.role IN ('clip','sidecar')
              AND drops.state NOT IN ('archived','failed','withdrawn','rejected')
            ORDER BY files.id DESC LIMIT 1
            """, [.text(path)]), let dropId = old.dropId,
            let drop = try sql.fetchOne(DropRecord.self, "SELECT * FROM drops WHERE id = ?", [.text(dropId)])
        {
            supersedes = (old, drop)
        }
        var rec = FileRecord(path: path, size: size, mtime: mtime, inode: inode, role: role, completedAt: self.now)
        // Several hosts watch one inbox: the file's identity is a unique key (v18), so the host that
        // records it second — even in the same instant, even after the first host's drop took it —
        // inserts nothing and makes no drop.
        guard let id = try sql.insertIfAbsent(rec, into: "files") else { return RecordedFile(isNew: false) }
        rec.id = id
        try Self.record(EventRecord(at: self.now, stage: EventStage.watch.rawValue, toState: EventKind.complete.rawValue, detail: path), sql, &events)
        return RecordedFile(isNew: true, supersedes: supersedes)
    }

    /// Retires waiting rows at `paths`: newer versions of files a finished drop has just filed away
    /// (a sidecar saved again while its drop was uploading). They went with the drop; none is a drop.
    package func retireWaiting(paths: [String]) throws {
        guard !paths.isEmpty else { return }
        try writeSQL { sql, _ in
            try sql.run("UPDATE files SET state = 'gone' WHERE state = 'waiting' AND path IN (\(sqlMarks(paths.count)))", paths.map(SQLValue.text))
        }
    }

    /// Marks a file taken without making a drop of it (a clip-list manifest once all its entries have drops).
    package func takeFile(id: Int64) throws {
        try writeSQL { sql, _ in try sql.run("UPDATE files SET state = 'taken' WHERE id = ? AND state = 'waiting'", id) }
    }

    /// The drops already made from a clip-list manifest, by entry index.
    package func drops(fromManifestFile id: Int64) throws -> [Int: DropRecord] {
        try readSQL { sql in
            let rows = try sql.fetchAll(DropRecord.self, "SELECT * FROM drops WHERE source_file_id = ?", [.integer(id)])
            return Dictionary(rows.compactMap { d in d.manifestEntry.map { ($0, d) } }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// True while a file has not been taken (a clip list with entries still waiting for their clips).
    package func isWaiting(fileId: Int64) throws -> Bool {
        try readSQL { sql in try sql.int("SELECT COUNT(*) AS n FROM files WHERE id = ? AND state = 'waiting'", [.integer(fileId)]) == 1 }
    }

    /// Drops other than `excluding` that still use a sidecar/manifest file and are not finished.
    package func otherOpenDrops(usingSidecar path: String, excluding id: String) throws -> Int {
        try readSQL { sql in
            Int(
                try sql.int(
                    "SELECT COUNT(*) AS n FROM drops WHERE sidecar_path = ? AND id != ? AND state NOT IN ('archived','failed','withdrawn')",
                    [.text(path), .text(id)]) ?? 0)
        }
    }

    /// The files a drop took from the inbox.
    package func files(ofDrop id: String) throws -> [FileRecord] {
        try readSQL { sql in try sql.fetchAll(FileRecord.self, "SELECT * FROM files WHERE drop_id = ? ORDER BY path", [.text(id)]) }
    }

    /// The newest file at one of `paths` that a drop has taken, with that drop.
    package func takenFile(atAny paths: [String]) throws -> (file: FileRecord, drop: DropRecord)? {
        guard !paths.isEmpty else { return nil }
        return try readSQL { sql in
            guard
                let f = try sql.fetchOne(
                    FileRecord.self,
                    "SELECT * FROM files WHERE state = 'taken' AND \(Self.liveFile) AND drop_id IS NOT NULL AND path IN (\(sqlMarks(paths.count))) ORDER BY id DESC LIMIT 1",
                    paths.map(SQLValue.text)),
                let dropId = f.dropId, let d = try sql.fetchOne(DropRecord.self, "SELECT * FROM drops WHERE id = ?", [.text(dropId)])
            else { return nil }
            return (f, d)
        }
    }

    /// Marks a waiting file gone (it vanished from the inbox before being taken).
    package func markFileGone(path: String) throws {
        try writeSQL { sql, _ in try sql.run("UPDATE files SET state = 'gone' WHERE path = ? AND state = 'waiting'", path) }
    }

    /// Whether a clip, sidecar or clip list still waits to be paired: one indexed look, asked every 200 ms
    /// by `--once` — reading every waiting row there cost a flood of lone sidecars a decoded row each, each time.
    package func anyWaitingToPair() throws -> Bool {
        try readSQL { sql in try sql.int("SELECT EXISTS (SELECT 1 FROM files WHERE state = 'waiting' AND role != 'other') AS n") == 1 }
    }

    package func oldestWaitingFileTime() throws -> Double? {
        try readSQL { sql in try sql.row("SELECT MIN(completed_at) AS t FROM files WHERE state = 'waiting' AND role != 'other'")?.double("t") }
    }

    /// Waiting files at any of `paths` (an indexed lookup, not a read of the whole waiting table).
    package func waitingFiles(atAny paths: [String]) throws -> [FileRecord] {
        guard !paths.isEmpty else { return [] }
        return try readSQL { sql in
            try sql.fetchAll(FileRecord.self, "SELECT * FROM files WHERE state = 'waiting' AND path IN (\(sqlMarks(paths.count)))", paths.map(SQLValue.text))
        }
    }

    package func waitingFiles() throws -> [FileRecord] {
        try readSQL { sql in try sql.fetchAll(FileRecord.self, "SELECT * FROM files WHERE state = 'waiting' ORDER BY completed_at, id") }
    }

    /// Creates a drop from waiting files in one transaction: the files become the drop's, so a
    /// second pairing pass (or a second worker) can never build the same drop twice.
    package func createDrop(_ drop: DropRecord, fileIDs listed: [Int64]) throws -> Bool {
        // A file named twice (a slideshow showing one image twice) is taken once: counted twice against the
        // distinct waiting rows, no drop was ever made, and the assemble stage tried again without end.
        var seen = Set<Int64>()
        let fileIDs = listed.filter { seen.insert($0).inserted }
        return try writeSQL { sql, events in
            let ids = fileIDs.map { "\($0)" }.joined(separator: ",")
            if !fileIDs.isEmpty {
                // On the shared ledger the files are locked as they are counted: a second host pairing the
                // same files waits here, then counts them taken and makes no drop.
                let waiting = try sql.int("SELECT COUNT(*) AS n FROM (SELECT id FROM files WHERE id IN (\(ids)) AND state = 'waiting'\(sql.dialect.forUpdate)) w") ?? 0
                guard waiting == fileIDs.count else { return false }
            }
            try sql.insert(drop, into: "drops")
            if !fileIDs.isEmpty { try sql.run("UPDATE files SET state = 'taken', drop_id = ? WHERE id IN (\(ids))", drop.id) }
            try Self.record(
                EventRecord(
                    at: self.now, dropId: drop.id, stage: EventStage.watch.rawValue, fromState: nil, toState: DropState.received.rawValue,
                    detail: [drop.clipPath, drop.sidecarPath].compactMap { $0 }.joined(separator: " + ")),
                sql, &events)
            return true
        }
    }
}
