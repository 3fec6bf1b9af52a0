import Foundation
import OmniPostCore

/// A claim looked for in a read before its write transaction is taken (issue 30, r16). Most of the
/// stages' claims come back empty: a stage is rung for every drop that might be its, and both convert
/// lanes, the archive's two kinds of filing and the verify stage's enrolment each asked in a write
/// transaction — on SQLite `BEGIN IMMEDIATE`, the write lock, the log's index touched — whose answer was
/// "nothing" ~11 times a published pass-through drop. On this host's SQLite ledger the same condition is
/// asked first in a read (one of the pool's readers, beside the writer, no lock taken from it), and the
/// write transaction, which asks again and claims, is begun only when the read found something.
///
/// Nothing is missed for it: the read sees every commit made before it began, as the write transaction
/// would have; a drop made claimable by a commit after it rings its stage after that commit (the ledger's
/// observer, or the doorbell for another process's), and the stage's loop took its ticket before the
/// look, so it looks again at once. A lease that runs out brings no ring — it is the stage's next
/// deadline either way. The shared PostgreSQL ledger takes the general path, its claim's transaction
/// straight away (`FOR UPDATE SKIP LOCKED`): a read first would be one more round trip to the server for
/// every claim that does find work, and several hosts' claims are what the locks are for.
extension Ledger {
    /// Whether this ledger looks in a read before a claim's write transaction: this host's SQLite ledger.
    var looksBeforeClaiming: Bool {
        if case .sqlite = backend { return true }
        return false
    }

    /// The claim of a drop in `state` under `condition` as a query: `SELECT <columns>` of every drop the
    /// claim may take (its lease free or lapsed, the crash guard), and its arguments. The claims and their
    /// looks are written with it once, so a look asks exactly what its claim would take.
    static func claimableSQL(in state: DropState, condition: DropCondition?, now: Double, columns: String = "*") -> (sql: String, arguments: [SQLValue]) {
        var query = "SELECT \(columns) FROM drops WHERE state = ? AND (lease_expiry IS NULL OR lease_expiry < ?)"
        if let condition { query += " AND (\(condition.sql))" }
        query += Self.crashGuardSQL
        return (query, [.text(state.rawValue), .real(now), .real(now), .real(now)])
    }

    /// Whether a claim of a drop in `state` under `condition` would take one, asked in `sql`'s transaction.
    static func anyClaimable(_ sql: any LedgerSQL, in state: DropState, condition: DropCondition?, now: Double) throws -> Bool {
        let (query, arguments) = claimableSQL(in: state, condition: condition, now: now, columns: "1")
        return try sql.row(query + " LIMIT 1", arguments) != nil
    }

    /// Whether a claim is worth its write transaction: always on the shared ledger (which is not asked),
    /// else whether the read finds a drop it would take.
    func worthClaiming(in state: DropState, condition: DropCondition?) throws -> Bool {
        guard looksBeforeClaiming else { return true }
        let now = self.now
        return try readSQL { sql in try Self.anyClaimable(sql, in: state, condition: condition, now: now) }
    }

    /// What the archive stage's lane that files everything may find, in one read rather than two (its two
    /// claims' looks): a rejected drop to file, a finished one (every delivery final). Both, unasked, on
    /// the shared ledger.
    package func filingWork() throws -> (rejected: Bool, finished: Bool) {
        guard looksBeforeClaiming else { return (true, true) }
        let now = self.now
        return try readSQL { sql in
            (
                try Self.anyClaimable(sql, in: .rejected, condition: nil, now: now),
                try Self.anyClaimable(sql, in: .converted, condition: .allDeliveriesFinal, now: now)
            )
        }
    }
}
