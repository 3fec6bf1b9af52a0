import Foundation
import OmniPostCore

/// A drop's filing — its originals moved into archive/ or failed/ — claimed in the ledger before the
/// first file moves (issue 27): one host files a drop, a second sees it taken and does nothing, and a
/// host that died mid-filing is taken over once its lease lapses, into the folder the first one chose
/// (`drop_filings`, v18). Written once over `LedgerSQL`, so one machine files the same way.
extension Ledger {
    /// A filing this process may go on with.
    package struct Filing: Sendable, Equatable {
        /// Where the originals go, relative to the pipeline's root (`archive/2026/12/06/<drop>`, `failed/<drop>`):
        /// the first filer's choice, kept by whoever takes it over.
        package var folder: String
        /// Another owner had begun it and stopped (its lease lapsed): some files may be there already.
        package var takenOver: Bool
        /// Who had it before, when taken over.
        package var previousOwner: String?
        /// This owner had claimed it before (a retry after a move that failed): files may be there already.
        package var resumed: Bool = false

        /// An earlier attempt, this owner's or another's, may have moved files: it is finished, never
        /// withdrawn (a withdrawal would put its files' rows back to waiting with an original already gone
        /// from the inbox).
        package var begun: Bool { takenOver || resumed }
    }

    /// Claims the filing of `dropId` for `owner` until `now + lease`, into `folder` unless a filing begun
    /// before chose one. Nil when another owner's filing of it is live, it was filed already, or the drop
    /// was withdrawn: then this process does nothing with it. The same owner claiming again (a retry after
    /// a failed move) goes on, and so does another process of the same host: holding the drop's claim, it
    /// is that host's daemon started again after the one that began the filing stopped (one daemon runs a
    /// pipeline on a host).
    package func claimFiling(dropId: String, owner: String, host: String, folder: String, lease: Double) throws -> Filing? {
        let now = self.now
        return try writeSQL { sql, events in
            try Self.claimFiling(sql, &events, dropId: dropId, owner: owner, host: host, folder: folder, lease: lease, now: now)
        }
    }

    /// `claimFiling` inside a transaction of the caller's (a rejected drop's claim: `claimRejectedDropToFile`).
    /// `claimedDrop`: the caller has just claimed the drop in this transaction — its row read (and, on the
    /// shared ledger, locked) in a state that is not `withdrawn` — so it is not read and locked a second time
    /// (issue 30: one query a drop).
    static func claimFiling(
        _ sql: any LedgerSQL, _ events: inout [EventRecord], dropId: String, owner: String, host: String, folder: String, lease: Double, now: Double,
        claimedDrop: Bool = false
    ) throws -> Filing? {
        // A withdrawn drop is filed by no one: its files wait again, for the drop they pair into next
        // (`withdrawDrop` refuses a drop whose filing is claimed). Its row locked first, as `withdrawDrop` does.
        if !claimedDrop {
            let state = try sql.row("SELECT state FROM drops WHERE id = ?" + sql.dialect.forUpdate, [.text(dropId)])?.text("state")
            guard state != DropState.withdrawn.rawValue else { return nil }
        }
        let before = try sql.row("SELECT owner, lease_until, done_at FROM drop_filings WHERE drop_id = ?" + sql.dialect.forUpdate, [.text(dropId)])
        guard
            let row = try sql.row(
                """
                INSERT INTO drop_filings (drop_id, owner, host, folder, started_at, lease_until) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (drop_id) DO UPDATE SET owner = excluded.owner, host = excluded.host, lease_until = excluded.lease_until
                WHERE drop_filings.done_at IS NULL
                  AND (drop_filings.lease_until < ? OR drop_filings.owner = excluded.owner OR drop_filings.host = excluded.host)
                RETURNING folder
                """, [.text(dropId), .text(owner), .text(host), .text(folder), .real(now), .real(now + lease), .real(now)])
        else { return nil }
        let previous = before?.text("owner")
        let takenOver = previous != nil && previous != owner
        if takenOver {
            try Self.record(
                EventRecord(
                    at: now, dropId: dropId, stage: EventStage.archive.rawValue, toState: EventKind.filingTakenOver.rawValue,
                    detail: "filing into \(row.text("folder") ?? folder) taken over from \(previous!) (its lease lapsed)"),
                sql, &events)
        }
        return Filing(folder: row.text("folder") ?? folder, takenOver: takenOver, previousOwner: takenOver ? previous : nil, resumed: previous == owner)
    }

    /// The filing is over: the drop is archived or failed, and no one takes it up again.
    package func finishFiling(dropId: String, owner: String) throws {
        let now = self.now
        try writeSQL { sql, _ in try sql.run("UPDATE drop_filings SET done_at = ? WHERE drop_id = ? AND owner = ?", now, dropId, owner) }
    }

    /// A filing that failed part-way (a full disk): its lease is let go at once, so a retry — by this host
    /// or another — goes on from where it stopped into the same folder.
    package func releaseFiling(dropId: String, owner: String) throws {
        try writeSQL { sql, _ in try sql.run("UPDATE drop_filings SET lease_until = 0 WHERE drop_id = ? AND owner = ? AND done_at IS NULL", dropId, owner) }
    }

    /// Who files `dropId`, and where (nil: nobody has begun).
    package func filing(of dropId: String) throws -> (owner: String, host: String, folder: String, done: Bool)? {
        try readSQL { sql in
            try sql.row("SELECT owner, host, folder, done_at FROM drop_filings WHERE drop_id = ?", [.text(dropId)]).map {
                (owner: $0.text("owner") ?? "", host: $0.text("host") ?? "", folder: $0.text("folder") ?? "", done: $0["done_at"] != .null)
            }
        }
    }
}
