import Foundation
import GRDB
import OmniPostCore

extension Ledger {
    /// Claims the oldest drop in `state` whose lease is free or expired. The lease means a crashed
    /// worker's drop is picked up again once the lease runs out, and never by two workers at once.
    public func claimDrop(in state: DropState, owner: String, lease: Double = 300, where extra: String? = nil) throws -> DropRecord? {
        try write { db, _ in
            let now = self.now
            var sql = "SELECT * FROM drops WHERE state = ? AND (lease_expiry IS NULL OR lease_expiry < ?)"
            if let extra { sql += " AND (\(extra))" }
            sql += " ORDER BY created_at LIMIT 1"
            guard var drop = try DropRecord.fetchOne(db, sql: sql, arguments: [state.rawValue, now]) else { return nil }
            drop.leaseOwner = owner
            drop.leaseExpiry = now + lease
            try drop.update(db)
            return drop
        }
    }

    /// Moves a drop from `from` to `to`, applying `change`, recording the event, and releasing the lease.
    /// Fails if the drop is no longer in `from` (someone else moved it): the caller drops its work.
    @discardableResult
    public func transitionDrop(
        _ id: String, from: DropState, to: DropState, stage: String, detail: String? = nil,
        change: @Sendable (inout DropRecord) -> Void = { _ in },
        alsoInTransaction: (@Sendable (Database) throws -> Void)? = nil
    ) throws -> DropRecord {
        try write { db, events in
            guard var drop = try DropRecord.fetchOne(db, key: id) else {
                throw OmniError(.internalError, "drop \(id) is not in the ledger")
            }
            guard drop.state == from else {
                throw OmniError(.internalError, "drop \(id) is \(drop.state.rawValue), not \(from.rawValue)")
            }
            guard DropState.transitions[from]?.contains(to) == true else {
                throw OmniError(.internalError, "drop transition \(from.rawValue) → \(to.rawValue) is not allowed")
            }
            change(&drop)
            drop.state = to
            drop.updatedAt = self.now
            drop.leaseOwner = nil
            drop.leaseExpiry = nil
            if to.isTerminal { drop.finishedAt = self.now }
            try drop.update(db)
            try alsoInTransaction?(db)
            var e = EventRecord(at: self.now, dropId: id, stage: stage, fromState: from.rawValue, toState: to.rawValue, detail: detail)
            try e.insert(db)
            events.append(e)
            return drop
        }
    }

    public func drop(_ id: String) throws -> DropRecord? {
        try read { db in try DropRecord.fetchOne(db, key: id) }
    }

    public func drops(in states: [DropState]? = nil) throws -> [DropRecord] {
        try read { db in
            var q = DropRecord.order(Column("created_at"))
            if let states { q = q.filter(states.map(\.rawValue).contains(Column("state"))) }
            return try q.fetchAll(db)
        }
    }

    /// Drops not yet archived or failed: the `--once` runner waits for this to reach zero.
    public func openDropCount() throws -> Int {
        try read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM drops WHERE state NOT IN ('archived','failed')") ?? 0
        }
    }

    /// The latest "watching" note per inbox: how each inbox was watched on the last start.
    public func watchModes() throws -> [String] {
        try read { db in
            try String.fetchAll(db, sql: """
                SELECT detail FROM events WHERE id IN (SELECT MAX(id) FROM events WHERE stage = 'watch' AND to_state = 'watching'
                GROUP BY substr(detail, 1, instr(detail, ' mode=')))
                """)
        }
    }

    public func events(forDrop id: String) throws -> [EventRecord] {
        try read { db in try EventRecord.filter(Column("drop_id") == id).order(Column("id")).fetchAll(db) }
    }

    /// Records a non-transition fact about a drop (e.g. a conversion's progress) in the audit trail.
    public func note(dropId: String?, deliveryId: Int64? = nil, target: String? = nil, stage: String, state: String, detail: String) throws {
        try write { db, events in
            var e = EventRecord(at: self.now, dropId: dropId, deliveryId: deliveryId, target: target, stage: stage, toState: state, detail: detail)
            try e.insert(db)
            events.append(e)
        }
    }
}

extension Ledger {
    /// Drops still being worked on, not counting those whose only open deliveries are deferred past
    /// `horizon` seconds from now (scheduled, or waiting for a quota window): `--once` does not wait for those.
    public func activeDropCount(horizon: Double) throws -> Int {
        let limit = now + horizon
        return try read { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM drops WHERE state NOT IN ('archived','failed') AND NOT (
                  state = 'converted' AND NOT EXISTS (
                    SELECT 1 FROM deliveries WHERE deliveries.drop_id = drops.id
                      AND state NOT IN ('published','failed','cancelled')
                      AND (not_before IS NULL OR not_before <= ?)))
                """, arguments: [limit]) ?? 0
        }
    }
}

extension Ledger {
    /// At start-up: leases held by processes of this host that no longer exist (killed, crashed) are
    /// released at once instead of waiting out their expiry. Owners are named `host:pid:nonce`.
    @discardableResult
    public func releaseDeadLeases(host: String, isAlive: (Int32) -> Bool) throws -> Int {
        let owners = try read { db in
            try String.fetchAll(db, sql: """
                SELECT DISTINCT lease_owner FROM drops WHERE lease_owner LIKE ? UNION
                SELECT DISTINCT lease_owner FROM deliveries WHERE lease_owner LIKE ?
                """, arguments: [host + ":%", host + ":%"])
        }
        let dead = owners.filter { owner in
            let parts = owner.split(separator: ":")
            guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]) else { return false }
            return !isAlive(pid)
        }
        guard !dead.isEmpty else { return 0 }
        return try write { db, events in
            var n = 0
            for owner in dead {
                try db.execute(sql: "UPDATE drops SET lease_owner = NULL, lease_expiry = NULL WHERE lease_owner = ?", arguments: [owner])
                n += db.changesCount
                try db.execute(sql: "UPDATE deliveries SET lease_owner = NULL, lease_expiry = NULL WHERE lease_owner = ?", arguments: [owner])
                n += db.changesCount
                var e = EventRecord(at: self.now, stage: "startup", toState: "lease_released", detail: "\(owner) is no longer running")
                try e.insert(db)
                events.append(e)
            }
            return n
        }
    }
}
