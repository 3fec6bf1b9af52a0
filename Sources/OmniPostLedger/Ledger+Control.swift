import Foundation
import GRDB
import OmniPostCore

/// What a person can do to the queue: cancel and retry (`omnipost cancel`, `omnipost retry`).
extension Ledger {
    /// Cancels a delivery that has not been published. One being uploaded right now (a live lease) is
    /// refused: its outcome is not known yet, and a cancel must never hide a post that happened.
    @discardableResult
    public func cancelDelivery(_ id: Int64, by who: String) throws -> DeliveryRecord {
        try write { db, events in
            let now = self.now
            guard var d = try DeliveryRecord.fetchOne(db, key: id) else { throw OmniError(.invalidValue, "there is no delivery \(id)") }
            if d.state.isTerminal { throw OmniError(.invalidValue, "delivery \(id) (\(d.target)) is already \(d.state.rawValue)") }
            if d.state == .uploading, let l = d.leaseExpiry, l >= now {
                throw OmniError(.invalidValue, "delivery \(id) (\(d.target)) is being uploaded right now by \(d.leaseOwner ?? "?"); try again when it finishes or stop the daemon first")
            }
            // An upload session may already have become a post (a last chunk whose reply was lost): only
            // reconciling can tell, and a cancel must never hide a post.
            if d.remoteSession != nil {
                throw OmniError(.invalidValue, "delivery \(id) (\(d.target)) has an upload session on the platform that may already be a post; the daemon reconciles it on its next attempt — cancel it after that, or remove the post on the platform")
            }
            let from = d.state
            d.state = .cancelled
            d.errorCode = ReasonCode.cancelled.rawValue
            d.errorMessage = "cancelled by \(who)"
            d.leaseOwner = nil
            d.leaseExpiry = nil
            d.gate = nil
            d.updatedAt = now
            try d.update(db)
            try db.execute(sql: "UPDATE attempts SET outcome = 'cancelled', finished_at = ? WHERE delivery_id = ? AND outcome IS NULL", arguments: [now, id])
            var e = EventRecord(at: now, dropId: d.dropId, deliveryId: id, target: d.target, stage: "control", fromState: from.rawValue,
                                toState: DeliveryState.cancelled.rawValue, detail: d.errorMessage)
            try e.insert(db)
            events.append(e)
            return d
        }
    }

    /// Puts a failed delivery back in the queue with a fresh attempt count and age, as long as its drop
    /// is still open (its rendition is still in work/). A finished drop is retried as a whole instead.
    @discardableResult
    public func retryDelivery(_ id: Int64, by who: String) throws -> DeliveryRecord {
        try write { db, events in
            let now = self.now
            guard var d = try DeliveryRecord.fetchOne(db, key: id) else { throw OmniError(.invalidValue, "there is no delivery \(id)") }
            if d.state == .ready, d.gate == "auth" {
                // Held because its account's credentials were refused while it had a platform session:
                // released now (after `accounts set-token`), it reconciles that session first.
                d.notBefore = nil
                d.gate = nil
                d.updatedAt = now
                try d.update(db)
                var e = EventRecord(at: now, dropId: d.dropId, deliveryId: id, target: d.target, stage: "control", fromState: "ready",
                                    toState: "ready", detail: "released by \(who); its session is reconciled before anything is sent")
                try e.insert(db)
                events.append(e)
                return d
            }
            guard d.state == .failed else { throw OmniError(.invalidValue, "delivery \(id) (\(d.target)) is \(d.state.rawValue); only failed deliveries are retried") }
            guard let drop = try DropRecord.fetchOne(db, key: d.dropId), drop.state == .converted else {
                throw OmniError(.invalidValue, "delivery \(id)'s drop \(d.dropId) is finished; retry the drop instead (`omnipost retry \(d.dropId)`)")
            }
            let to: DeliveryState = d.renditionPath != nil && FileManager.default.fileExists(atPath: d.renditionPath!) ? .ready : .planned
            d.state = to
            d.attempts = 0
            d.notBefore = nil
            d.gate = nil
            d.errorCode = nil
            d.errorMessage = nil
            d.uploadStartedAt = nil
            d.updatedAt = now
            try d.update(db)
            var e = EventRecord(at: now, dropId: d.dropId, deliveryId: id, target: d.target, stage: "control", fromState: DeliveryState.failed.rawValue,
                                toState: to.rawValue, detail: "retry asked by \(who)")
            try e.insert(db)
            events.append(e)
            return d
        }
    }

    /// Where the archive stage put a finished drop's originals (`archive/…/<id>` or `failed/<id>`).
    public func originalsFolder(dropId: String) throws -> String? {
        try read { db in
            try String.fetchOne(db, sql: """
                SELECT detail FROM events WHERE drop_id = ? AND stage = 'archive' AND to_state IN ('archived','failed') ORDER BY id DESC LIMIT 1
                """, arguments: [dropId])
        }
    }

    /// Forgets a finished drop's files, so the same files moved back into the inbox count as new.
    public func retireFiles(dropId: String) throws {
        try write { db, _ in
            try db.execute(sql: "UPDATE files SET state = 'gone' WHERE drop_id = ?", arguments: [dropId])
        }
    }
}
