import Foundation

/// A delivery taken for upload by one owner (`host:pid:tag`), with the attempt row opened for it.
package struct LeasedDelivery: Sendable, Equatable {
    package var id: Int64
    package var dropId: String
    package var target: String
    /// The attempt's number (1 for the first) and its row.
    package var attempt: Int
    package var attemptId: Int64
    /// It was `uploading` under a lease that lapsed: another owner stopped mid-upload and this one resumes.
    package var takenOver: Bool
}

/// The upload claim's lease, written once over `LedgerSQL` so SQLite and PostgreSQL run the same
/// statements (docs/ledger.md, "One interface, two backends"). On PostgreSQL several hosts claim at
/// once: the candidate is selected `FOR UPDATE SKIP LOCKED`, so a row one host is claiming is passed
/// over by the others instead of waited for, and the lease condition is checked again on the row as
/// locked (PostgreSQL re-reads a row updated since the snapshot before locking it), so no row is ever
/// claimed twice. This family is the lease alone: the queue's gates (caps, breakers, quotas — SQLite's
/// `claimDelivery`) move onto it next.
enum DeliveryLeases {
    /// The first due delivery not held by a live lease — `ready`, or `uploading` under a lapsed lease —
    /// in the queue's order (priority, then how long it has waited), leased to `owner` until `now + lease`.
    static func claim(_ sql: some LedgerSQL, owner: String, lease: Double, now: Double) throws -> LeasedDelivery? {
        guard
            let row = try sql.row(
                """
                SELECT id, drop_id, target, state, attempts, bytes_sent FROM deliveries
                WHERE state IN ('ready','uploading') AND (not_before IS NULL OR not_before <= ?)
                  AND (lease_expiry IS NULL OR lease_expiry < ?)
                ORDER BY priority DESC, COALESCE(not_before, 0), id LIMIT 1
                """ + sql.dialect.skipLocked, [.real(now), .real(now)]),
            let id = row.int("id")
        else { return nil }
        let takenOver = row.text("state") == "uploading"
        let bytes = row.int("bytes_sent") ?? 0
        let attempt = Int(row.int("attempts") ?? 0) + 1
        // An attempt the previous owner left open ends as interrupted, with what it had checkpointed.
        try sql.run(
            """
            UPDATE attempts SET outcome = 'interrupted', finished_at = ?, bytes_sent = \(sql.dialect.greatest("0", "? - bytes_at_start")),
              detail = 'the process holding it stopped' WHERE delivery_id = ? AND outcome IS NULL
            """, now, bytes, id)
        try sql.run(
            """
            UPDATE deliveries SET state = 'uploading', lease_owner = ?, lease_expiry = ?, attempts = ?, updated_at = ?, gate = NULL,
              upload_started_at = COALESCE(upload_started_at, ?) WHERE id = ?
            """, owner, now + lease, attempt, now, now, id)
        guard
            let attemptId = try sql.row(
                "INSERT INTO attempts (delivery_id, number, owner, account, started_at, bytes_at_start) SELECT id, ?, ?, platform || ':' || account, ?, ? FROM deliveries WHERE id = ? RETURNING id",
                [.integer(Int64(attempt)), .text(owner), .real(now), .integer(bytes), .integer(id)])?.int("id")
        else { return nil }
        try sql.run(
            "INSERT INTO events (at, drop_id, delivery_id, target, stage, from_state, to_state, detail) VALUES (?, ?, ?, ?, 'upload', ?, 'uploading', ?)",
            now, row.text("drop_id"), id, row.text("target"), row.text("state"),
            takenOver ? "resuming (attempt \(attempt)), taken over from a lapsed lease" : "attempt \(attempt)")
        return LeasedDelivery(
            id: id, dropId: row.text("drop_id") ?? "", target: row.text("target") ?? "", attempt: attempt, attemptId: attemptId, takenOver: takenOver)
    }

    /// The heartbeat: every upload `owner` still holds is leased until `now + lease`. A row another owner
    /// took over after this one's lease lapsed names that owner and is not touched. Returns how many.
    static func renew(_ sql: some LedgerSQL, owner: String, lease: Double, now: Double) throws -> Int {
        try sql.run("UPDATE deliveries SET lease_expiry = ? WHERE lease_owner = ? AND state = 'uploading'", now + lease, owner)
    }
}
