import Foundation
import GRDB
import OmniPostCore

/// What a person can do to the queue: cancel and retry (`omnipost cancel`, `omnipost retry`).
extension Ledger {
    /// Cancels a delivery that has not been published. One being uploaded right now (a live lease) is
    /// refused: its outcome is not known yet, and a cancel must never hide a post that happened.
    /// `abandoned`: the adapter gave up the delivery's platform session, knowing it never became a post
    /// (an S3 multipart upload aborted) — then a delivery with a session may be cancelled too.
    @discardableResult
    public func cancelDelivery(_ id: Int64, by who: String, abandoned: Bool = false) throws -> DeliveryRecord {
        try write { db, events in
            let now = self.now
            guard var d = try DeliveryRecord.fetchOne(db, key: id) else { throw OmniError(.invalidValue, "there is no delivery \(id)") }
            if d.state.isTerminal { throw OmniError(.invalidValue, "delivery \(id) (\(d.target)) is already \(d.state.rawValue)") }
            if d.state == .uploading, let l = d.leaseExpiry, l >= now {
                throw OmniError(.invalidValue, "delivery \(id) (\(d.target)) is being uploaded right now by \(d.leaseOwner ?? "?"); try again when it finishes or stop the daemon first")
            }
            // An upload session may already have become a post (a last chunk whose reply was lost): only
            // reconciling can tell, and a cancel must never hide a post.
            if d.remoteSession != nil, !abandoned {
                throw OmniError(.invalidValue, Self.sessionRefusal(d))
            }
            let from = d.state
            d.state = .cancelled
            d.errorCode = ReasonCode.cancelled.rawValue
            d.errorMessage = "cancelled by \(who)" + (abandoned && d.remoteSession != nil ? "; its upload on the platform was abandoned (it never became a post)" : "")
            if abandoned { d.remoteSession = nil }
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

    static func sessionRefusal(_ d: DeliveryRecord) -> String {
        "delivery \(d.id ?? 0) (\(d.target)) has an upload session on the platform that may already be a post; the daemon reconciles it on its next attempt — cancel it after that, or remove the post on the platform"
    }

    /// Holds a delivery that has a platform session while `cancel` asks the platform to abandon it: the
    /// daemon does not claim it for two minutes (a cancel that dies midway lets it go by itself). Nil
    /// when the delivery has no session (cancel it directly). Refused while it is being uploaded.
    public func holdForCancel(_ id: Int64) throws -> DeliveryRecord? {
        try write { db, _ in
            let now = self.now
            guard var d = try DeliveryRecord.fetchOne(db, key: id) else { throw OmniError(.invalidValue, "there is no delivery \(id)") }
            if d.state.isTerminal || d.remoteSession == nil { return nil }
            if d.state == .uploading, let l = d.leaseExpiry, l >= now {
                throw OmniError(.invalidValue, "delivery \(id) (\(d.target)) is being uploaded right now by \(d.leaseOwner ?? "?"); try again when it finishes or stop the daemon first")
            }
            d.notBefore = now + 120
            d.gate = "cancel"
            d.updatedAt = now
            try d.update(db)
            return d
        }
    }

    /// Lets a held delivery go again (the platform could not abandon its session), with the refusal to say.
    public func releaseCancelHold(_ id: Int64) throws -> String {
        try write { db, _ in
            guard var d = try DeliveryRecord.fetchOne(db, key: id) else { return "there is no delivery \(id)" }
            if d.gate == "cancel" {
                d.gate = nil
                d.notBefore = nil
                d.updatedAt = self.now
                try d.update(db)
            }
            return Self.sessionRefusal(d)
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
