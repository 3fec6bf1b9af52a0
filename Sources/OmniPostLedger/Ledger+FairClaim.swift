import Foundation
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
        // Its write transaction only when a read finds a drop to take, in any writer's turn (Ledger+ClaimLook.swift).
        guard try worthClaiming(in: state, condition: condition) else { return nil }
        return try writeSQL { sql, _ in
            let now = self.now
            // The key as the index holds it on this backend (`SQLDialect.fairKey`), so the claim reads the index.
            let key = sql.dialect.fairKey
            // The claim's own condition, written once with its look's (`claimableSQL`), with the key beside it.
            let (base, arguments) = Self.claimableSQL(in: state, condition: condition, now: now, columns: "*, \(key) AS fair_key")
            var row: SQLRow?
            if let after {
                row = try sql.row(base + " AND \(key) > ? ORDER BY \(key), created_at LIMIT 1" + sql.dialect.skipLocked, arguments + [.text(after)])
            }
            if row == nil {
                row = try sql.row(base + " ORDER BY \(key), created_at LIMIT 1" + sql.dialect.skipLocked, arguments)
            }
            guard let row else { return nil }
            var drop = try DropRecord(from: SQLRowDecoder(row: row))
            drop.leaseOwner = owner
            drop.leaseExpiry = now + lease
            try sql.run("UPDATE drops SET lease_owner = ?, lease_expiry = ? WHERE id = ?", owner, now + lease, drop.id)
            return (drop, row.text("fair_key") ?? "")
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
