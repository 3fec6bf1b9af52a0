import Foundation

extension Ledger {
    /// Holds every waiting delivery of one account (ready, or still being converted) until `until`: a
    /// platform's rate window on the account itself (X's `/2/users/me`) closes for all its uploads at
    /// once, not for the one that hit it.
    /// Deliveries already held later keep their time; each one moved gets an event. Returns how many moved.
    @discardableResult
    package func holdAccount(_ key: String, until: Double, code: String, message: String) throws -> Int {
        try writeSQL { sql, events in
            let now = self.now
            // Locked as read on the shared ledger: a claim on another host waits for the hold to commit and
            // then reads the deliveries held, rather than take one this hold is about to move.
            let held = try sql.fetchAll(
                DeliveryRecord.self,
                """
                SELECT * FROM deliveries WHERE state IN ('planned','ready') AND platform || ':' || account = ? AND COALESCE(not_before, 0) < ?
                """ + sql.dialect.forUpdate, [.text(key), .real(until)])
            for var d in held {
                d.notBefore = until
                d.gate = "retry"
                d.errorCode = code
                d.errorMessage = message
                d.updatedAt = now
                try sql.update(d, in: "deliveries")
                try Self.record(
                    EventRecord(
                        at: now, dropId: d.dropId, deliveryId: d.id, target: d.target, stage: EventStage.queue.rawValue,
                        fromState: d.state.rawValue, toState: EventKind.waiting.rawValue, detail: "\(code): \(message)"),
                    sql, &events)
            }
            return held.count
        }
    }
}
