import Foundation
import GRDB
import OmniPostCore

extension Ledger {
    /// Who a drop's work belongs to, for fairness: the clip list it came from, or else its folder
    /// (`dir:` + the path up to its last `/`). One writer filling a folder with thousands of files, or
    /// one list naming thousands of clips, is one key — it is served in turn with every other key, never
    /// ahead of all of them. The exact text is indexed (migration v8): change it only with a new index.
    static let fairKeySQL = """
        (CASE WHEN source_file_id IS NOT NULL THEN 'list:' || source_file_id ELSE 'dir:' || \
        rtrim(COALESCE(clip_path, sidecar_path, ''), replace(COALESCE(clip_path, sidecar_path, ''), '/', '')) END)
        """

    /// Claims a drop in `state` like `claimDrop`, but round-robin across writers: the oldest drop of the
    /// first key after `after` (wrapping around), so each writer's next drop is reached after at most one
    /// drop of every other writer. Returns the drop and its key (the caller's `after` for next time).
    func claimDropFairly(
        in state: DropState, owner: String, after: String?, lease: Double = 300,
        condition: DropCondition? = nil
    ) throws -> (drop: DropRecord, key: String)? {
        try write { db, _ in
            let now = self.now
            var base = "SELECT *, \(Self.fairKeySQL) AS fair_key FROM drops WHERE state = ? AND (lease_expiry IS NULL OR lease_expiry < ?)"
            if let condition { base += " AND (\(condition.sql))" }
            base += Self.crashGuardSQL
            var row: Row?
            if let after {
                row = try Row.fetchOne(
                    db, sql: base + " AND \(Self.fairKeySQL) > ? ORDER BY \(Self.fairKeySQL), created_at LIMIT 1",
                    arguments: [state.rawValue, now, now, now, after])
            }
            if row == nil {
                row = try Row.fetchOne(db, sql: base + " ORDER BY \(Self.fairKeySQL), created_at LIMIT 1", arguments: [state.rawValue, now, now, now])
            }
            guard let row else { return nil }
            var drop = try DropRecord(row: row)
            drop.leaseOwner = owner
            drop.leaseExpiry = now + lease
            try drop.update(db)
            return (drop, row["fair_key"] ?? "")
        }
    }
}

/// The key a stage served last, so its next fair claim starts after it.
package final class FairTurn: @unchecked Sendable {
    private let lock = NSLock()
    private var key: String?
    package init() {}
    package var last: String? {
        get { lock.withLock { key } }
        set { lock.withLock { key = newValue } }
    }
}
