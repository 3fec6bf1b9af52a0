import Foundation
import OmniPostCore

extension Ledger {
    package func insertDeliveries(_ deliveries: [DeliveryRecord]) throws {
        try writeSQL { sql, _ in
            for d in deliveries { try sql.insert(d, into: "deliveries") }
        }
    }

    package func deliveries(forDrop id: String) throws -> [DeliveryRecord] {
        try readSQL { sql in try sql.fetchAll(DeliveryRecord.self, "SELECT * FROM deliveries WHERE drop_id = ? ORDER BY id", [.text(id)]) }
    }

    package func delivery(_ id: Int64) throws -> DeliveryRecord? {
        try readSQL { sql in try sql.fetchOne(DeliveryRecord.self, "SELECT * FROM deliveries WHERE id = ?", [.integer(id)]) }
    }

    package func allDeliveries() throws -> [DeliveryRecord] {
        try readSQL { sql in try sql.fetchAll(DeliveryRecord.self, "SELECT * FROM deliveries ORDER BY id") }
    }

    /// An earlier delivery of the same content to the same target that is published or on its way:
    /// the identity check that turns a re-dropped clip into a `duplicate` instead of a second post.
    /// A failed delivery that holds a platform session counts: its post may exist (never confirmed),
    /// so the same content is not sent to that target again by a new drop — unless its drop was retried
    /// (`session_policy = 'handover'`): then the new drop's delivery takes the session over and
    /// reconciles it first (`takeOverSession`).
    package func priorDelivery(contentSha256: String, target: String, excludingDrop: String) throws -> DeliveryRecord? {
        try readSQL { sql in
            try sql.fetchOne(
                DeliveryRecord.self,
                """
                SELECT * FROM deliveries WHERE content_sha256 = ? AND target = ? AND drop_id != ?
                AND (state NOT IN ('failed','cancelled') OR (state = 'failed' AND remote_session IS NOT NULL)) ORDER BY id LIMIT 1
                """, [.text(contentSha256), .text(target), .text(excludingDrop)])
        }
    }

    /// Moves a delivery on, recording the event. `expectOwner` guards against a worker whose lease was
    /// taken over writing over the new owner's progress.
    @discardableResult
    package func transitionDelivery(
        _ id: Int64, from: DeliveryState, to: DeliveryState, stage: String, detail: String? = nil, expectOwner: String? = nil,
        attempt: AttemptResult? = nil, firstRead: PostRead? = nil,
        change: @Sendable (inout DeliveryRecord) -> Void = { _ in }
    ) throws -> DeliveryRecord {
        // A post on record is what every later step trusts (the original's move to the archive, the
        // notices, a drop of the same clip answered as a duplicate): it outlives a power cut.
        try writeSQL(durable: to == .published) { sql, events in
            let d = try self.transitionDelivery(
                id, from: from, to: to, stage: stage, detail: detail, expectOwner: expectOwner, attempt: attempt, change: change, sql, &events)
            // The post's first read, entered with the post: the archive, which may file its drop the moment
            // this commits, writes the result with the read in it — once, not again when the read settles.
            if to == .published, let read = firstRead {
                var c = read.check
                c.updatedAt = self.now
                try sql.insert(c, into: "post_checks")
                try Self.recordRead(of: c, metrics: read.metrics, event: read.event, dropId: d.dropId, now: self.now, sql, &events)
            }
            return d
        }
    }

    /// `transitionDelivery` inside a transaction already open (one that also withdraws the drop).
    func transitionDelivery(
        _ id: Int64, from: DeliveryState, to: DeliveryState, stage: String, detail: String?, expectOwner: String?, attempt: AttemptResult?,
        change: (inout DeliveryRecord) -> Void, _ sql: any LedgerSQL, _ events: inout [EventRecord]
    ) throws -> DeliveryRecord {
        // Locked as it is read on the shared ledger, so the checks below hold until the change commits.
        guard var d = try sql.fetchOne(DeliveryRecord.self, "SELECT * FROM deliveries WHERE id = ?" + sql.dialect.forUpdate, [.integer(id)]) else {
            throw OmniError(.internalError, "delivery \(id) is not in the ledger")
        }
        guard d.state == from else { throw OmniError(.internalError, "delivery \(id) is \(d.state.rawValue), not \(from.rawValue)") }
        if let expectOwner, d.leaseOwner != expectOwner {
            throw OmniError(.internalError, "delivery \(id) lease is held by another worker")
        }
        guard DeliveryState.transitions[from]?.contains(to) == true else {
            throw OmniError(.internalError, "delivery transition \(from.rawValue) → \(to.rawValue) is not allowed")
        }
        let read = d
        change(&d)
        d.state = to
        d.updatedAt = self.now
        if to != .uploading {
            d.leaseOwner = nil
            d.leaseExpiry = nil
        }
        // Only what changed: the delivery's indexes its state does not touch are left as they are.
        try sql.update(d, in: "deliveries", changedFrom: read)
        // The attempt's row and the account's breaker move in the same transaction as the delivery.
        if let attempt { try self.finish(attempt, delivery: d, sql, events: &events) }
        if from != to {
            var e = EventRecord(
                at: self.now, dropId: d.dropId, deliveryId: id, target: d.target, stage: stage,
                fromState: from.rawValue, toState: to.rawValue, detail: detail)
            e.reasonCode = d.errorCode
            e.attempt = d.attempts
            try Self.record(e, sql, &events)
        }
        return d
    }

    /// Checkpoints an upload in place: the remote session and the platform-confirmed offset. Called
    /// before the first byte (session) and after each acknowledged chunk (offset); extends the lease.
    /// `durable`: the session or phase the next request may make a post of — synced to disk before this
    /// returns, so a power cut cannot leave a restart without it (`writeSQL(durable:)`).
    package func checkpoint(
        deliveryId: Int64, owner: String, lease: Double, session: String?, confirmedOffset: Int64, bytesSent: Int64, durable: Bool = true
    ) throws {
        try writeSQL(durable: durable) { sql, _ in
            let n = self.now
            let changed = try sql.run(
                """
                UPDATE deliveries SET remote_session = ?, confirmed_offset = ?, bytes_sent = ?, lease_expiry = ?, updated_at = ?,
                  session_policy = CASE WHEN remote_session \(sql.dialect.isSame) ? THEN session_policy ELSE NULL END
                WHERE id = ? AND lease_owner = ?
                """, session, confirmedOffset, bytesSent, n + lease, n, session, deliveryId, owner)
            if changed == 0 {
                throw OmniError(.internalError, "delivery \(deliveryId) lease was lost; stopping this upload")
            }
        }
    }

    /// When the earliest deferred upload becomes due (retry later, quota window, schedule, breaker).
    /// Only future times: work due now but held by a cap or a probe is found again when a slot frees.
    package func nextDeliveryDue() throws -> Double? {
        let now = self.now
        return try readSQL { sql in
            try sql.row("SELECT MIN(not_before) AS t FROM deliveries WHERE state IN ('ready','uploading') AND not_before > ?", [.real(now)])?.double("t")
        }
    }
}

extension Ledger {
    /// Schedule slots already taken by drops still going out (one drop per slot).
    package func takenSlots(from: Double) throws -> Set<Double> {
        try readSQL { sql in
            Set(
                try sql.rows("SELECT DISTINCT slot_at FROM deliveries WHERE slot_at >= ? AND state NOT IN ('failed','cancelled')", from)
                    .compactMap { $0.double("slot_at") })
        }
    }
}
