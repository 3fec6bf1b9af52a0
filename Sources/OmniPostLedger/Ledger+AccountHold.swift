import Foundation
import GRDB

extension Ledger {
    /// Holds every waiting delivery of one account (ready, or still being converted) until `until`: a
    /// platform's rate window on the account itself (X's `/2/users/me`) closes for all its uploads at
    /// once, not for the one that hit it.
    /// Deliveries already held later keep their time; each one moved gets an event. Returns how many moved.
    @discardableResult
    package func holdAccount(_ key: String, until: Double, code: String, message: String) throws -> Int {
        try write { db, events in
            let now = self.now
            let held = try DeliveryRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM deliveries WHERE state IN ('planned','ready') AND platform || ':' || account = ? AND COALESCE(not_before, 0) < ?
                    """, arguments: [key, until])
            for var d in held {
                d.notBefore = until
                d.gate = "retry"
                d.errorCode = code
                d.errorMessage = message
                d.updatedAt = now
                try d.update(db)
                var e = EventRecord(
                    at: now, dropId: d.dropId, deliveryId: d.id, target: d.target, stage: EventStage.queue.rawValue,
                    fromState: d.state.rawValue, toState: EventKind.waiting.rawValue, detail: "\(code): \(message)")
                try e.insert(db)
                events.append(e)
            }
            return held.count
        }
    }
}
