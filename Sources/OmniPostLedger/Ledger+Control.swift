import Foundation
import OmniPostCore

/// A retried drop's failed delivery whose platform session the new drop's delivery to `target` takes
/// over (`SessionPolicy.handover`): it reconciles that session before sending anything.
package struct SessionHandover: Sendable, Equatable {
    package var from: Int64
    package var target: String
    package var session: String
    package init(from: Int64, target: String, session: String) {
        self.from = from
        self.target = target
        self.session = session
    }
}

/// What a person can do to the queue: cancel and retry (`omnipost cancel`, `omnipost retry`).
extension Ledger {
    /// Cancels a delivery that has not been published. One being uploaded right now (a live lease) is
    /// refused: its outcome is not known yet, and a cancel must never hide a post that happened.
    /// `abandoned`: the adapter gave up the delivery's platform session, knowing it never became a post
    /// (an S3 multipart upload aborted) — then a delivery with a session may be cancelled too.
    @discardableResult
    package func cancelDelivery(_ id: Int64, by who: String, abandoned: Bool = false) throws -> DeliveryRecord {
        try writeSQL { sql, events in
            let now = self.now
            // Locked as read (shared ledger): a claim on another host cannot lease it between this check and
            // the cancel, and two cancels (or a cancel and a retry) act one after the other on what the first left.
            guard var d = try Self.delivery(id, sql, locking: true) else { throw OmniError(.unknownId, "there is no delivery \(id)") }
            if d.state.isTerminal { throw OmniError(.invalidValue, "delivery \(id) (\(d.target)) is already \(d.state.rawValue)") }
            if d.state == .uploading, let l = d.leaseExpiry, l >= now {
                throw OmniError(
                    .invalidValue, "delivery \(id) (\(d.target)) is being uploaded right now by \(d.leaseOwner ?? "?"); try again when it finishes or stop the daemon first")
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
            try sql.update(d, in: "deliveries")
            try sql.run("UPDATE attempts SET outcome = 'cancelled', finished_at = ? WHERE delivery_id = ? AND outcome IS NULL", now, id)
            try Self.record(
                EventRecord(
                    at: now, dropId: d.dropId, deliveryId: id, target: d.target, stage: EventStage.control.rawValue, fromState: from.rawValue,
                    toState: DeliveryState.cancelled.rawValue, detail: d.errorMessage),
                sql, &events)
            return d
        }
    }

    /// One delivery by id; `locking` reads it `FOR UPDATE` on the shared ledger (a person's action on it
    /// is decided on what was read, and must not race another host's claim or another person's action).
    static func delivery(_ id: Int64, _ sql: any LedgerSQL, locking: Bool = false) throws -> DeliveryRecord? {
        try sql.fetchOne(DeliveryRecord.self, "SELECT * FROM deliveries WHERE id = ?" + (locking ? sql.dialect.forUpdate : ""), [.integer(id)])
    }

    static func sessionRefusal(_ d: DeliveryRecord) -> String {
        "delivery \(d.id ?? 0) (\(d.target)) has an upload session on the platform that may already be a post; the daemon reconciles it on its next attempt — cancel it after that, or remove the post on the platform"
    }

    /// Holds a delivery that has a platform session while `cancel` asks the platform to abandon it: the
    /// daemon does not claim it for two minutes (a cancel that dies midway lets it go by itself). Nil
    /// when the delivery has no session (cancel it directly). Refused while it is being uploaded.
    package func holdForCancel(_ id: Int64) throws -> DeliveryRecord? {
        try writeSQL { sql, _ in
            let now = self.now
            guard var d = try Self.delivery(id, sql, locking: true) else { throw OmniError(.unknownId, "there is no delivery \(id)") }
            if d.state.isTerminal || d.remoteSession == nil { return nil }
            if d.state == .uploading, let l = d.leaseExpiry, l >= now {
                throw OmniError(
                    .invalidValue, "delivery \(id) (\(d.target)) is being uploaded right now by \(d.leaseOwner ?? "?"); try again when it finishes or stop the daemon first")
            }
            d.notBefore = now + 120
            d.gate = "cancel"
            d.updatedAt = now
            try sql.update(d, in: "deliveries")
            return d
        }
    }

    /// Lets a held delivery go again (the platform could not abandon its session), with the refusal to say.
    package func releaseCancelHold(_ id: Int64) throws -> String {
        try writeSQL { sql, _ in
            guard var d = try Self.delivery(id, sql, locking: true) else { return "there is no delivery \(id)" }
            if d.gate == "cancel" {
                d.gate = nil
                d.notBefore = nil
                d.updatedAt = self.now
                try sql.update(d, in: "deliveries")
            }
            return Self.sessionRefusal(d)
        }
    }

    /// What a retry of one delivery of an open drop did, for the line the person reads.
    package struct RetriedDelivery: Sendable {
        package var delivery: DeliveryRecord
        /// Failed → queued again (false: a held delivery let go now).
        package var requeued: Bool
        /// What held it (quota, breaker, retry, auth) when it was only held.
        package var heldBy: String?
    }

    /// Puts a failed delivery back in the queue with a fresh attempt count and age, as long as its drop
    /// is still open (its rendition is still in work/). A finished drop is retried as a whole instead.
    /// One that holds a platform session is reconciled first: a post found there is recorded, a session
    /// still good is resumed, one the platform failed is replaced by a new upload (`SessionPolicy.retry`).
    /// A delivery only held (by a quota, a breaker, a backoff, its account's credentials) is looked at
    /// again now: the queue's gates are evaluated afresh under the pipeline's current settings.
    @discardableResult
    package func retryDelivery(_ id: Int64, by who: String) throws -> RetriedDelivery {
        try writeSQL { sql, events in
            let now = self.now
            // Locked as read (shared ledger): two retries on two hosts are one — the second reads it requeued.
            guard var d = try Self.delivery(id, sql, locking: true) else { throw OmniError(.unknownId, "there is no delivery \(id)") }
            if d.state == .ready, let gate = d.gate, Self.releasableGates.contains(gate) {
                // Held, not failed: a person asks for it now (a raised quota, `accounts set-token` after
                // an auth hold). The claim looks at every gate again and holds it anew if one is still shut;
                // one held for its credentials reconciles its session before anything is sent.
                try Self.release(
                    &d, stage: EventStage.control.rawValue,
                    detail: "released by \(who) from its \(gate) hold; looked at again now"
                        + (d.remoteSession != nil ? "; its session is reconciled before anything is sent" : ""), at: now, sql, &events)
                return RetriedDelivery(delivery: d, requeued: false, heldBy: gate)
            }
            guard d.state == .failed else {
                throw OmniError(
                    .invalidValue,
                    "delivery \(id) (\(d.target)) is \(d.state.rawValue)"
                        + (d.gate.map { " (held by \($0))" } ?? "") + "; only failed or held deliveries are retried")
            }
            guard let drop = try sql.fetchOne(DropRecord.self, "SELECT * FROM drops WHERE id = ?", [.text(d.dropId)]), drop.state == .converted else {
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
            d.sessionPolicy = d.remoteSession != nil ? .retry : nil
            d.updatedAt = now
            try sql.update(d, in: "deliveries")
            // A deliberate start-over: the upload it makes is a new call the platform counts, so its post is
            // charged again (a new quota round, v20). One that holds a session resumes or reconciles it, and
            // the claim charges nothing for that, as for any resumed session.
            try sql.run("UPDATE deliveries SET quota_round = quota_round + 1 WHERE id = ?", id)
            try Self.record(
                EventRecord(
                    at: now, dropId: d.dropId, deliveryId: id, target: d.target, stage: EventStage.control.rawValue, fromState: DeliveryState.failed.rawValue,
                    toState: to.rawValue,
                    detail: "retry asked by \(who)"
                        + (d.remoteSession != nil
                            ? "; its upload session is reconciled first (a post found is recorded, a failed one is replaced by a new upload)" : "")),
                sql, &events)
            return RetriedDelivery(delivery: d, requeued: true, heldBy: nil)
        }
    }

    /// Lets a held delivery go: no time, no gate, no stale reason; the claim reads every gate again.
    static func release(_ d: inout DeliveryRecord, stage: String, detail: String, at now: Double, _ sql: any LedgerSQL, _ events: inout [EventRecord]) throws {
        d.notBefore = nil
        d.gate = nil
        d.errorCode = nil
        d.errorMessage = nil
        d.updatedAt = now
        try sql.update(d, in: "deliveries")
        try Self.record(
            EventRecord(at: now, dropId: d.dropId, deliveryId: d.id, target: d.target, stage: stage, fromState: "ready", toState: "ready", detail: detail),
            sql, &events)
    }

    /// Holds a person's retry lets go: what the queue re-evaluates at the claim anyway. A schedule is the
    /// sidecar's own wish and a cancel hold belongs to a cancel under way: those stay.
    package static let releasableGates: Set<String> = ["quota", "breaker", "retry", "auth"]

    /// Holds that were the queue's own reading of a quota (not the platform's answer) are looked at again:
    /// at start and at a reload, when the pipeline's quotas may have changed. A hold that came from the
    /// platform (its last attempt was deferred with `quota_exhausted`) keeps the platform's word.
    /// Returns how many were let go.
    @discardableResult
    package func reevaluateQuotaHolds(reason: String) throws -> Int {
        try writeSQL { sql, events in
            let now = self.now
            // Locked as read (shared ledger): hosts starting together release each hold once.
            let held = try sql.fetchAll(
                DeliveryRecord.self,
                """
                SELECT * FROM deliveries WHERE state = 'ready' AND gate = 'quota'
                  AND COALESCE((SELECT a.error_code FROM attempts a WHERE a.delivery_id = deliveries.id ORDER BY a.id DESC LIMIT 1), '') != 'quota_exhausted'
                """ + sql.dialect.forUpdate)
            for var d in held {
                try Self.release(&d, stage: EventStage.queue.rawValue, detail: "quota hold looked at again: \(reason)", at: now, sql, &events)
            }
            return held.count
        }
    }

    /// A finished drop being retried: its files are forgotten (so the same files moved back into the inbox
    /// count as new), and each failed delivery holding a platform session hands that session to the next
    /// drop of the same content, which reconciles it before sending anything (`SessionPolicy.handover`).
    /// Returns the targets whose session is handed over.
    @discardableResult
    package func prepareRetry(dropId: String) throws -> [String] {
        try writeSQL { sql, _ in
            try sql.run("UPDATE files SET state = 'gone' WHERE drop_id = ?", dropId)
            let targets = try sql.rows(
                "SELECT target FROM deliveries WHERE drop_id = ? AND state = 'failed' AND remote_session IS NOT NULL ORDER BY id" + sql.dialect.forUpdate, dropId
            ).compactMap { $0.text("target") }
            try sql.run("UPDATE deliveries SET session_policy = 'handover' WHERE drop_id = ? AND state = 'failed' AND remote_session IS NOT NULL", dropId)
            return targets
        }
    }

    /// Inside the validate stage's transaction: the new drop's delivery `to` takes over the session of the
    /// retried drop's failed delivery `from`. Refused when another drop took it first.
    static func takeOverSession(_ h: SessionHandover, to newDrop: String, _ sql: any LedgerSQL) throws {
        let (from, target, session) = (h.from, h.target, h.session)
        let changed = try sql.run(
            """
            UPDATE deliveries SET remote_session = NULL, session_policy = NULL,
              error_message = COALESCE(error_message, '') || '; retried: its upload session went to drop ' || ?
            WHERE id = ? AND session_policy = 'handover' AND remote_session \(sql.dialect.isSame) ?
            """, newDrop, from, session)
        guard changed == 1 else {
            throw OmniError(.duplicate, "\(target): the earlier upload session of delivery \(from) was taken over by another drop of the same content first")
        }
    }

    /// The drop a retried finished drop's originals came back in as (the first drop of the same clip taken
    /// after the retry), with its state — for a second retry, which must point there.
    package func retriedAs(dropId: String) throws -> (at: Double, drop: DropRecord?)? {
        try readSQL { sql in
            guard
                let at = try sql.row(
                    "SELECT at FROM events WHERE drop_id = ? AND stage = 'control' AND to_state = 'retried' ORDER BY id DESC LIMIT 1", [.text(dropId)]
                )?.double("at")
            else { return nil }
            guard let old = try sql.fetchOne(DropRecord.self, "SELECT * FROM drops WHERE id = ?", [.text(dropId)]) else { return (at, nil) }
            let next = try sql.fetchOne(
                DropRecord.self,
                "SELECT * FROM drops WHERE id != ? AND clip_path \(sql.dialect.isSame) CAST(? AS TEXT) AND created_at >= ? ORDER BY created_at LIMIT 1",
                [.text(dropId), old.clipPath.sqlValue, .real(at)])
            return (at, next)
        }
    }

    /// Where the archive stage put a finished drop's originals (`archive/…/<id>` or `failed/<id>`).
    package func originalsFolder(dropId: String) throws -> String? {
        try readSQL { sql in
            let e = try sql.fetchOne(
                EventRecord.self,
                "SELECT * FROM events WHERE drop_id = ? AND stage = 'archive' AND to_state IN ('archived','failed') ORDER BY id DESC LIMIT 1", [.text(dropId)])
            guard case .filed(let folder)? = e?.data else { return nil }
            return folder
        }
    }
}

extension Ledger {
    /// The failed drop a sidecar at `path` (inbox-relative) corrects: the newest drop that failed with a
    /// sidecar of that path and was not retried since — so moving a corrected sidecar back into the inbox
    /// retries it, as `omnipost retry` would. Nil when there is none (clip-list entries never match).
    package func failedDrop(withSidecar path: String) throws -> DropRecord? {
        try readSQL { sql in
            try sql.fetchOne(
                DropRecord.self,
                """
                SELECT * FROM drops d WHERE d.sidecar_path = ? AND d.state = 'failed' AND d.manifest_entry IS NULL
                  AND NOT EXISTS (SELECT 1 FROM events e WHERE e.drop_id = d.id AND e.stage = 'control' AND e.to_state = 'retried')
                ORDER BY d.updated_at DESC LIMIT 1
                """, [.text(path)])
        }
    }
}
