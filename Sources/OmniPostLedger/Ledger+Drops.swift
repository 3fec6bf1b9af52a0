import Foundation
import OmniPostCore

extension Ledger {
    /// Claims the oldest drop in `state` whose lease is free or expired. The lease means a crashed
    /// worker's drop is picked up again once the lease runs out, and never by two workers at once.
    /// The stages claim through the named claims (Ledger+DropClaims.swift), which add their condition.
    package func claimDrop(in state: DropState, owner: String, lease: Double = 300) throws -> DropRecord? {
        try claimDrop(in: state, owner: owner, lease: lease, condition: nil)
    }

    func claimDrop(in state: DropState, owner: String, lease: Double, condition: DropCondition?) throws -> DropRecord? {
        // Its write transaction only when a read finds a drop to take (Ledger+ClaimLook.swift).
        guard try worthClaiming(in: state, condition: condition) else { return nil }
        let now = self.now
        return try writeSQL { sql, _ in try Self.claimDrop(sql, in: state, owner: owner, lease: lease, condition: condition, now: now) }
    }

    /// `claimDrop` inside a transaction of the caller's.
    static func claimDrop(_ sql: any LedgerSQL, in state: DropState, owner: String, lease: Double, condition: DropCondition?, now: Double) throws -> DropRecord? {
        let (claimable, arguments) = claimableSQL(in: state, condition: condition, now: now)
        // Hosts sharing the ledger pass over a drop another is claiming this moment (`skipLocked`).
        let query = claimable + " ORDER BY created_at LIMIT 1" + sql.dialect.skipLocked
        guard var drop = try sql.fetchOne(DropRecord.self, query, arguments) else { return nil }
        drop.leaseOwner = owner
        drop.leaseExpiry = now + lease
        try sql.run("UPDATE drops SET lease_owner = ?, lease_expiry = ? WHERE id = ?", owner, now + lease, drop.id)
        return drop
    }

    /// A drop that was in flight when the daemon crashed is worked on alone, and nothing else while
    /// it is: if it crashes again, the crash is charged to it and not to a bystander. (Two `now` arguments.)
    static let crashGuardSQL = """
         AND (crashes = 0 OR NOT EXISTS (SELECT 1 FROM drops o WHERE o.id != drops.id AND o.lease_expiry >= ?))
         AND NOT EXISTS (SELECT 1 FROM drops o WHERE o.id != drops.id AND o.crashes > 0 AND o.lease_expiry >= ?)
        """

    /// Moves a drop from `from` to `to`, applying `change`, recording the event, and releasing the lease.
    /// Fails if the drop is no longer in `from` (someone else moved it): the caller drops its work.
    /// In the same transaction (a validated drop's plan): `handovers` take over a retried drop's upload
    /// sessions, and `inserting` adds the drop's deliveries — all of it happens, or none.
    @discardableResult
    package func transitionDrop(
        _ id: String, from: DropState, to: DropState, stage: String, detail: String? = nil, data: EventData? = nil,
        change: @Sendable (inout DropRecord) -> Void = { _ in },
        handovers: [SessionHandover] = [], inserting deliveries: [DeliveryRecord] = [],
        retiringWaiting retired: [String] = [], filingDoneBy filer: String? = nil, moving moved: [DeliveryMove] = []
    ) throws -> DropRecord {
        let now = self.now
        return try writeSQL { sql, events in
            // Locked as it is read on the shared ledger: two hosts moving one drop take turns, and the second finds it moved.
            guard var drop = try sql.fetchOne(DropRecord.self, "SELECT * FROM drops WHERE id = ?" + sql.dialect.forUpdate, [.text(id)]) else {
                throw OmniError(.internalError, "drop \(id) is not in the ledger")
            }
            guard drop.state == from else {
                throw OmniError(.internalError, "drop \(id) is \(drop.state.rawValue), not \(from.rawValue)")
            }
            guard DropState.transitions[from]?.contains(to) == true else {
                throw OmniError(.internalError, "drop transition \(from.rawValue) → \(to.rawValue) is not allowed")
            }
            let read = drop
            change(&drop)
            drop.state = to
            drop.updatedAt = self.now
            drop.leaseOwner = nil
            drop.leaseExpiry = nil
            if to.isTerminal { drop.finishedAt = self.now }
            try sql.update(drop, in: "drops", changedFrom: read)
            for h in handovers { try Self.takeOverSession(h, to: id, sql) }
            for d in deliveries { try sql.insert(d, into: "deliveries") }
            // Its deliveries moved in the same commit (the convert stage's deliveries made ready with the drop
            // converted: one commit for one decision, and no delivery ready before its drop is converted).
            for m in moved {
                _ = try self.transitionDelivery(
                    m.id, from: m.from, to: m.to, stage: stage, detail: m.detail, expectOwner: nil, attempt: nil, change: m.change, sql, &events)
            }
            // The archive stage's last steps ride in the same transaction (issue 30: one per decision):
            // newer versions of the files it filed never become drops, and its filing is over.
            if !retired.isEmpty {
                try sql.run("UPDATE files SET state = 'gone' WHERE state = 'waiting' AND path IN (\(sqlMarks(retired.count)))", retired.map(SQLValue.text))
            }
            if let filer { try sql.run("UPDATE drop_filings SET done_at = ? WHERE drop_id = ? AND owner = ?", now, id, filer) }
            var e = EventRecord(at: self.now, dropId: id, stage: stage, fromState: from.rawValue, toState: to.rawValue, detail: detail, data: data)
            e.reasonCode = drop.reasonCode
            e.listEntry = drop.manifestEntry != nil
            try Self.record(e, sql, &events)
            return drop
        }
    }

    /// A delivery's transition made with its drop's (`transitionDrop(moving:)`).
    package struct DeliveryMove: Sendable {
        package var id: Int64, from: DeliveryState, to: DeliveryState, detail: String?
        package var change: @Sendable (inout DeliveryRecord) -> Void
        package init(_ id: Int64, from: DeliveryState, to: DeliveryState, detail: String?, change: @escaping @Sendable (inout DeliveryRecord) -> Void) {
            self.id = id
            self.from = from
            self.to = to
            self.detail = detail
            self.change = change
        }
    }

    package func drop(_ id: String) throws -> DropRecord? {
        try readSQL { sql in try sql.fetchOne(DropRecord.self, "SELECT * FROM drops WHERE id = ?", [.text(id)]) }
    }

    /// A drop and its deliveries in one read (a drop's status file: two reads were two transactions of
    /// every drop's last write; issue 30).
    package func dropWithDeliveries(_ id: String) throws -> (drop: DropRecord, deliveries: [DeliveryRecord])? {
        try readSQL { sql in
            guard let drop = try sql.fetchOne(DropRecord.self, "SELECT * FROM drops WHERE id = ?", [.text(id)]) else { return nil }
            return (drop, try sql.fetchAll(DeliveryRecord.self, "SELECT * FROM deliveries WHERE drop_id = ? ORDER BY id", [.text(id)]))
        }
    }

    package func drops(in states: [DropState]? = nil) throws -> [DropRecord] {
        try readSQL { sql in
            guard let states else { return try sql.fetchAll(DropRecord.self, "SELECT * FROM drops ORDER BY created_at, id") }
            return try sql.fetchAll(
                DropRecord.self, "SELECT * FROM drops WHERE state IN (\(sqlMarks(states.count))) ORDER BY created_at, id", states.map { .text($0.rawValue) })
        }
    }

    /// Drops not yet archived or failed: the `--once` runner waits for this to reach zero.
    package func openDropCount() throws -> Int {
        try readSQL { sql in Int(try sql.int("SELECT COUNT(*) AS n FROM drops WHERE state NOT IN ('archived','failed','withdrawn')") ?? 0) }
    }

    /// The latest "watching" note per inbox: how each inbox was watched on the last start.
    package func watchModes() throws -> [String] {
        try readSQL { sql in
            try sql.rows(
                """
                SELECT detail FROM events WHERE id IN (SELECT MAX(id) FROM events WHERE stage = 'watch' AND to_state = 'watching'
                GROUP BY \(sql.dialect.jsonText("data", "watching", "inbox"))) ORDER BY id
                """
            ).compactMap { $0.text("detail") }
        }
    }

    package func events(forDrop id: String) throws -> [EventRecord] {
        try readSQL { sql in try sql.fetchAll(EventRecord.self, "SELECT * FROM events WHERE drop_id = ? ORDER BY id", [.text(id)]) }
    }

    /// The drop's latest event of one kind (`approved`: who let it go), or nil — one row read and decoded
    /// rather than the drop's whole timeline (issue 30: the archive stage asks this of every finished drop).
    package func lastEvent(forDrop id: String, kind: EventKind) throws -> EventRecord? {
        try readSQL { sql in try Self.lastEvent(forDrop: id, kind: kind, sql) }
    }

    static func lastEvent(forDrop id: String, kind: EventKind, _ sql: any LedgerSQL) throws -> EventRecord? {
            try sql.fetchOne(
                EventRecord.self, "SELECT * FROM events WHERE drop_id = ? AND to_state = ? ORDER BY id DESC LIMIT 1", [.text(id), .text(kind.rawValue)])
        }

    /// Events in order, newest last: those after `afterId`, at most `limit`, optionally of one drop or stage.
    package func events(afterId: Int64 = 0, limit: Int = 1_000_000, drop: String? = nil, stage: String? = nil, since: Double? = nil) throws -> [EventRecord] {
        try readSQL { sql in
            var query = "SELECT * FROM events WHERE id > ?"
            var arguments: [SQLValue] = [.integer(afterId)]
            if let drop {
                query += " AND drop_id = ?"
                arguments.append(.text(drop))
            }
            if let stage {
                query += " AND stage = ?"
                arguments.append(.text(stage))
            }
            if let since {
                query += " AND at >= ?"
                arguments.append(.real(since))
            }
            return try sql.fetchAll(EventRecord.self, query + " ORDER BY id LIMIT ?", arguments + [.integer(Int64(limit))])
        }
    }

    /// Records a non-transition fact (e.g. a conversion's progress) in the audit trail: `detail` is the
    /// sentence a person reads, `data` the facts a reader needs as values.
    package func note(
        _ kind: EventKind, stage: EventStage, dropId: String? = nil, deliveryId: Int64? = nil, target: String? = nil,
        detail: String, data: EventData? = nil
    ) throws {
        try writeSQL { sql, events in
            try Self.record(
                EventRecord(
                    at: self.now, dropId: dropId, deliveryId: deliveryId, target: target, stage: stage.rawValue, toState: kind.rawValue,
                    detail: detail, data: data),
                sql, &events)
        }
    }
}

extension Ledger {
    /// Drops still being worked on, not counting those whose only open deliveries are deferred past
    /// `horizon` seconds from now (scheduled, or waiting for a quota window): `--once` does not wait for those.
    package func activeDropCount(horizon: Double) throws -> Int {
        let limit = now + horizon
        return try readSQL { sql in
            Int(
                try sql.int(
                    """
                    SELECT COUNT(*) AS n FROM drops WHERE state NOT IN ('archived','failed','withdrawn') AND NOT (
                      state = 'converted'
                      AND EXISTS (SELECT 1 FROM deliveries WHERE deliveries.drop_id = drops.id
                          AND state NOT IN ('published','failed','cancelled'))
                      AND NOT EXISTS (SELECT 1 FROM deliveries WHERE deliveries.drop_id = drops.id
                          AND state NOT IN ('published','failed','cancelled')
                          AND (not_before IS NULL OR not_before <= ?)))
                    """, [.real(limit)]) ?? 0)
        }
    }
}

extension Ledger {
    /// Processing a drop that crashed the daemon this many times is not tried again.
    package static let crashQuarantineAfter = 2

    /// At start-up: leases held by processes of this host that no longer exist (killed, crashed) are
    /// released at once instead of waiting out their expiry. Owners are named `host:pid:nonce`.
    /// `crashed(pid)` says whether that process died of a crash (it left a marker) rather than a kill:
    /// the drops it held are charged a crash, and one charged `crashQuarantineAfter` times is rejected
    /// with `internal_error` instead of being handed to a stage that would crash a third time.
    @discardableResult
    package func releaseDeadLeases(host: String, isAlive: (Int32) -> Bool, crashed: (Int32) -> Bool = { _ in false }) throws -> Int {
        let owners = try readSQL { sql in
            try sql.rows(
                """
                SELECT DISTINCT lease_owner FROM drops WHERE lease_owner LIKE ? UNION
                SELECT DISTINCT lease_owner FROM deliveries WHERE lease_owner LIKE ?
                """, host + ":%", host + ":%"
            ).compactMap { $0.text("lease_owner") }
        }
        let dead: [(owner: String, pid: Int32)] = owners.compactMap { owner in
            let parts = owner.split(separator: ":")
            guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]), !isAlive(pid) else { return nil }
            return (owner, pid)
        }
        guard !dead.isEmpty else { return 0 }
        let crashedOwners = Set(dead.filter { crashed($0.pid) }.map(\.owner))
        return try writeSQL { sql, events in
            var n = 0
            for (owner, _) in dead {
                if crashedOwners.contains(owner) {
                    try sql.run("UPDATE drops SET crashes = crashes + 1 WHERE lease_owner = ?", owner)
                    let victims = try sql.fetchAll(
                        DropRecord.self, "SELECT * FROM drops WHERE lease_owner = ? AND crashes >= ? AND state IN ('received','validated')",
                        [.text(owner), .integer(Int64(Self.crashQuarantineAfter))])
                    for var d in victims {
                        let from = d.state
                        // Validate and convert are the stages that parse a user's bytes.
                        d.state = .rejected
                        try sql.run(
                            """
                            UPDATE deliveries SET state = 'cancelled', error_code = 'internal_error', error_message = 'its drop was quarantined'
                            WHERE drop_id = ? AND state IN ('planned','ready')
                            """, d.id)
                        d.reasonCode = ReasonCode.internalError.rawValue
                        d.reasonMessage =
                            "processing this drop crashed OmniPost \(d.crashes) times (while it was \(from.rawValue)); it was set aside so the rest of the inbox goes on. Its originals are kept; please report it with the file"
                        d.leaseOwner = nil
                        d.leaseExpiry = nil
                        d.updatedAt = self.now
                        try sql.update(d, in: "drops")
                        try Self.record(
                            EventRecord(
                                at: self.now, dropId: d.id, stage: EventStage.startup.rawValue, fromState: from.rawValue, toState: d.state.rawValue,
                                detail: "internal_error: quarantined after \(d.crashes) crashes"),
                            sql, &events)
                    }
                }
                n += try Self.clearLeases(owner: owner, sql)
                try Self.record(
                    EventRecord(
                        at: self.now, stage: EventStage.startup.rawValue, toState: EventKind.leaseReleased.rawValue,
                        detail: "\(owner) is no longer running\(crashedOwners.contains(owner) ? " (it crashed)" : "")"),
                    sql, &events)
            }
            return n
        }
    }
}

extension Ledger {
    /// Lets go of everything `owner` holds (a pipeline stopped in this process, as on a reload): the
    /// drops and deliveries are free to be claimed at once, instead of when their leases would lapse.
    /// Work already checkpointed is kept; an upload resumes from its confirmed offset.
    /// Frees the drops and deliveries `owner` holds; how many.
    static func clearLeases(owner: String, _ sql: any LedgerSQL) throws -> Int {
        try sql.run("UPDATE drops SET lease_owner = NULL, lease_expiry = NULL WHERE lease_owner = ?", owner)
            + sql.run("UPDATE deliveries SET lease_owner = NULL, lease_expiry = NULL WHERE lease_owner = ?", owner)
    }

    @discardableResult
    package func releaseLeases(owner: String) throws -> Int {
        try writeSQL { sql, events in
            let n = try Self.clearLeases(owner: owner, sql)
            if n > 0 {
                try Self.record(
                    EventRecord(
                        at: self.now, stage: EventStage.reload.rawValue, toState: EventKind.leaseReleased.rawValue,
                        detail: "\(owner) stopped for a reload; \(n) held item(s) released"),
                    sql, &events)
            }
            return n
        }
    }
}

extension Ledger {
    /// The clip changed after it was taken — it was still being written: the drop is withdrawn (not
    /// failed), its unsent deliveries cancelled with `source_changed`, its clip's row retired and its
    /// sidecar and other files put back to waiting, so the finished file pairs again as a new drop.
    /// Refused (returns false) once any delivery is uploading or published: then the post may exist,
    /// and the upload's own pinned checks decide.
    @discardableResult
    /// `retiring`: other files of the drop whose rows are retired too (a sidecar found rewritten: its newer
    /// version comes in through the watcher as a row of its own, and the stale one never pairs again).
    /// Refused too once the drop's filing is claimed (`drop_filings`): its originals may be moving into
    /// archive/ or failed/ already, and a sidecar put back to waiting would pair with the next clip and be
    /// gone when that drop is validated (`unreadable`). `filer`: the caller's own filing, claimed with the
    /// drop and nothing of it moved yet (the archive stage's check before it files a rejected drop) — let
    /// go with the withdrawal. `claimFiling` refuses a withdrawn drop: the two never overlap.
    package func withdrawDrop(
        _ id: String, stage: String, reason: String, code: ReasonCode = .sourceChanged, retireClip: Bool = true,
        retiring: [String] = [], filer: String? = nil
    ) throws -> Bool {
        try writeSQL { sql, events in
            try self.withdrawDrop(id, stage: stage, reason: reason, code: code, retireClip: retireClip, retiring: retiring, filer: filer, sql, &events)
        }
    }

    /// A delivery being uploaded cancelled (the upload found its clip still being written) and its drop
    /// withdrawn, in one transaction: no other stage sees the delivery final with the drop not yet
    /// withdrawn (the archive stage could claim it in between). The cancel commits even when the
    /// withdrawal is refused (something of the drop was posted, or its filing is claimed): false then.
    package func cancelAndWithdraw(
        deliveryId: Int64, owner: String, stage: String, code: ReasonCode, message: String, attempt: AttemptResult?, retireClip: Bool
    ) throws -> (delivery: DeliveryRecord, withdrawn: Bool) {
        try writeSQL { sql, events in
            // The drop's row locked first, as `withdrawDrop` and `claimFiling` lock it (PostgreSQL: one order,
            // no deadlock with a filing claimed meanwhile).
            if let dropId = try sql.row("SELECT drop_id FROM deliveries WHERE id = ?", [.integer(deliveryId)])?.text("drop_id") {
                _ = try sql.row("SELECT id FROM drops WHERE id = ?" + sql.dialect.forUpdate, [.text(dropId)])
            }
            let d = try self.transitionDelivery(
                deliveryId, from: .uploading, to: .cancelled, stage: stage, detail: "\(code.rawValue): \(message)", expectOwner: owner, attempt: attempt,
                change: { x in
                    x.errorCode = code.rawValue
                    x.errorMessage = message
                    x.gate = nil
                }, sql, &events)
            let withdrawn = try self.withdrawDrop(
                d.dropId, stage: stage, reason: message, code: .sourceChanged, retireClip: retireClip, retiring: [], filer: nil, sql, &events)
            return (d, withdrawn)
        }
    }

    /// `withdrawDrop` inside a transaction already open.
    func withdrawDrop(
        _ id: String, stage: String, reason: String, code: ReasonCode, retireClip: Bool, retiring: [String], filer: String?,
        _ sql: any LedgerSQL, _ events: inout [EventRecord]
    ) throws -> Bool {
        // A rejected drop not yet filed away may be withdrawn too: its answer was about bytes since replaced.
        guard var drop = try sql.fetchOne(DropRecord.self, "SELECT * FROM drops WHERE id = ?" + sql.dialect.forUpdate, [.text(id)]),
            !drop.state.isTerminal
        else { return false }
        let busy = try sql.int("SELECT COUNT(*) AS n FROM deliveries WHERE drop_id = ? AND state IN ('uploading','published')", [.text(id)]) ?? 0
        guard busy == 0 else { return false }
        if let filing = try sql.row("SELECT owner FROM drop_filings WHERE drop_id = ? AND done_at IS NULL" + sql.dialect.forUpdate, [.text(id)]) {
            guard let filer, filing.text("owner") == filer else { return false }
            try sql.run("DELETE FROM drop_filings WHERE drop_id = ? AND owner = ? AND done_at IS NULL", id, filer)
        }
        let from = drop.state
        try sql.run(
            """
            UPDATE deliveries SET state = 'cancelled', error_code = ?, error_message = ?, updated_at = ?
            WHERE drop_id = ? AND state IN ('planned','ready','failed')
            """, code.rawValue, reason, self.now, id)
        if retireClip, let clip = drop.clipPath {
            try sql.run("UPDATE files SET state = 'gone' WHERE drop_id = ? AND path = ?", id, clip)
        }
        for path in retiring {
            try sql.run("UPDATE files SET state = 'gone' WHERE drop_id = ? AND path = ?", id, path)
        }
        // A file whose newer content is already waiting (a sidecar rewritten after pairing) is retired too:
        // the newer row is the fact, and a path waits once.
        try sql.run(
            """
            UPDATE files SET state = 'gone' WHERE drop_id = ? AND state = 'taken'
              AND path IN (SELECT path FROM files WHERE state = 'waiting')
            """, id)
        try sql.run("UPDATE files SET state = 'waiting', drop_id = NULL, completed_at = ? WHERE drop_id = ? AND state = 'taken'", self.now, id)
        drop.state = .withdrawn
        drop.reasonCode = code.rawValue
        drop.reasonMessage = reason
        drop.leaseOwner = nil
        drop.leaseExpiry = nil
        drop.updatedAt = self.now
        drop.finishedAt = self.now
        try sql.update(drop, in: "drops")
        try Self.record(
            EventRecord(
                at: self.now, dropId: id, stage: stage, fromState: from.rawValue, toState: DropState.withdrawn.rawValue,
                detail: "\(code.rawValue): \(reason)"),
            sql, &events)
        return true
    }
}

extension Ledger {
    /// Whether a drop named `stem` has been through validation (validated or rejected): the bench's
    /// "dropped → validated" latency polls this.
    package func validationDecided(stem: String) throws -> Bool {
        try readSQL { sql in
            try sql.int(
                "SELECT COUNT(*) AS n FROM events WHERE stage = 'validate' AND detail IS NOT NULL AND drop_id IN (SELECT id FROM drops WHERE stem = ?)",
                [.text(stem)]) ?? 0 > 0
        }
    }
}
