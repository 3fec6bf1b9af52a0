import Foundation
import OmniPostCore

/// The stages' claims, named in OmniPost's words. Each says which drops a stage may take; the SQL that
/// finds them is written here once, so a second ledger backend implements the same conditions and the
/// pipeline never hands the ledger a query.
extension Ledger {
    /// The validate stage's two lanes: every received drop, or only those whose clip is small (so a huge
    /// clip being hashed never holds the small ones behind it).
    package enum ValidateLane: Sendable, Equatable {
        case any
        /// Drops whose taken clip is at most this many bytes (or that have no clip).
        case clipsAtMost(Int64)
    }

    /// The convert stage's two lanes: every validated drop, or only those that need no transcode
    /// (pass-through, remux), which overtake a long conversion instead of waiting behind it.
    package enum ConvertLane: Sendable, Equatable { case any, quick }

    /// The next received drop to validate, round-robin across writers (`FairTurn`): the drop and its
    /// writer's key, the caller's `after` next time.
    package func claimDropToValidate(
        owner: String, after: String?, lane: ValidateLane = .any,
        lease: Double = 300
    ) throws -> (drop: DropRecord, key: String)? {
        let condition: DropCondition? =
            switch lane {
            case .any: nil
            case .clipsAtMost(let bytes): .clipAtMost(bytes)
            }
        return try claimDropFairly(in: .received, owner: owner, after: after, lease: lease, condition: condition)
    }

    /// The oldest validated drop to convert in `lane`. `validatedBefore`: only a drop validated at least
    /// that long ago — a busier host's head start to the less busy ones (docs/several-hosts.md, "Roles").
    package func claimDropToConvert(owner: String, lane: ConvertLane = .any, lease: Double = 3600, validatedBefore: Double? = nil) throws -> DropRecord? {
        let conditions = [lane == .quick ? DropCondition.noTranscodePlanned : nil, validatedBefore.map { DropCondition.updatedAtMost($0) }].compactMap { $0 }
        return try claimDrop(in: .validated, owner: owner, lease: lease, condition: conditions.isEmpty ? nil : .all(conditions))
    }

    /// The oldest converted drop whose every delivery is final (published, failed or cancelled): ready to file away.
    package func claimDropReadyToArchive(owner: String, lease: Double = 300) throws -> DropRecord? {
        try claimDrop(in: .converted, owner: owner, lease: lease, condition: .allDeliveriesFinal)
    }

    /// `claimDropReadyToArchive` and the drop's filing in one transaction (as `claimRejectedDropToFile`),
    /// with its deliveries as that transaction read them: `folder` names where it is filed from the drop
    /// and its deliveries (the archive stage's rule: archive/ when something was published). Two commits
    /// and a second read of the deliveries became one commit (issue 30: a published drop's bookkeeping).
    /// `looked`: the caller's read found one to take (`filingWork`), so the claim does not look again first.
    package func claimFinishedDropToFile(
        owner: String, host: String, lease: Double, filingLease: Double, looked: Bool = false,
        folder: @Sendable (DropRecord, [DeliveryRecord]) -> String
    ) throws -> (drop: DropRecord, deliveries: [DeliveryRecord], filing: Filing?)? {
        guard try looked || worthClaiming(in: .converted, condition: .allDeliveriesFinal) else { return nil }
        let now = self.now
        return try writeSQL { sql, events in
            guard let drop = try Self.claimDrop(sql, in: .converted, owner: owner, lease: lease, condition: .allDeliveriesFinal, now: now)
            else { return nil }
            let deliveries = try sql.fetchAll(DeliveryRecord.self, "SELECT * FROM deliveries WHERE drop_id = ? ORDER BY id", [.text(drop.id)])
            let filing = try Self.claimFiling(
                sql, &events, dropId: drop.id, owner: owner, host: host, folder: folder(drop, deliveries), lease: filingLease, now: now, claimedDrop: true)
            return (drop, deliveries, filing)
        }
    }

    /// The oldest rejected drop, to file under failed/ with its report.
    package func claimRejectedDrop(owner: String, lease: Double = 300) throws -> DropRecord? {
        try claimDrop(in: .rejected, owner: owner, lease: lease, condition: nil)
    }

    /// The oldest rejected drop and its filing (`claimFiling`), claimed in one transaction rather than
    /// two — a rejected drop's commits are most of what it costs (issue 30). `folder` names where the
    /// claimed drop is filed: the archive stage's one rule for it (`failed/<drop>`), passed in rather than
    /// written here a second time. The filing is nil when another host's filing of it is live: the drop
    /// is then that host's to file. `alone`: only a drop that is no clip list's entry (whose filing never
    /// waits on, nor moves, a list other drops share) — what a second archive loop may file beside the first.
    /// With them, what filing it reads of the drop, in the same transaction rather than a read each after
    /// it (issue 30): its deliveries (none, for a drop rejected at validation; a drop a person rejected
    /// has its cancelled ones) and its file rows (the versions it took).
    /// `looked`: as for `claimFinishedDropToFile`.
    package func claimRejectedDropToFile(
        owner: String, host: String, lease: Double, filingLease: Double, alone: Bool = false, looked: Bool = false,
        folder: @Sendable (DropRecord) -> String
    ) throws -> (drop: DropRecord, filing: Filing?, deliveries: [DeliveryRecord], files: [FileRecord])? {
        guard try looked || worthClaiming(in: .rejected, condition: alone ? .notAListEntry : nil) else { return nil }
        let now = self.now
        return try writeSQL { sql, events in
            guard let drop = try Self.claimDrop(sql, in: .rejected, owner: owner, lease: lease, condition: alone ? .notAListEntry : nil, now: now)
            else { return nil }
            let filing = try Self.claimFiling(
                sql, &events, dropId: drop.id, owner: owner, host: host, folder: folder(drop), lease: filingLease, now: now, claimedDrop: true)
            let deliveries = try sql.fetchAll(DeliveryRecord.self, "SELECT * FROM deliveries WHERE drop_id = ? ORDER BY id", [.text(drop.id)])
            let files = try sql.fetchAll(FileRecord.self, "SELECT * FROM files WHERE drop_id = ? ORDER BY path", [.text(drop.id)])
            return (drop, filing, deliveries, files)
        }
    }
}

extension Ledger {
    /// When a lease on a drop in one of `states` runs out, the earliest still to come: a drop whose
    /// worker stopped holding it (a step that failed, a host or process gone without letting go) is
    /// claimed again then — the stage that takes such drops names it as its next deadline, so the retry
    /// is not left to its loop's 30 s safety net. A crashed drop's lease counts in any state: while it
    /// runs, the crash guard (`crashGuardSQL`) keeps every other drop waiting for it.
    package func nextLeaseExpiry(in states: [DropState]) throws -> Date? {
        let now = self.now
        return try readSQL { sql in
            let marks = sqlMarks(states.count)
            let held = try sql.row(
                "SELECT MIN(lease_expiry) AS t FROM drops WHERE state IN (\(marks)) AND lease_expiry > ?",
                states.map { .text($0.rawValue) } + [.real(now)])?.double("t")
            // (`crashes > 0` as written is the partial index `drops_crashed`'s condition.)
            let crashed = try sql.row("SELECT MIN(lease_expiry) AS t FROM drops WHERE crashes > 0 AND lease_expiry > ?", [.real(now)])?.double("t")
            return [held, crashed].compactMap { $0 }.min().map { Date(timeIntervalSince1970: $0) }
        }
    }
}

/// A condition a claim puts on the drops it may take, turned into SQL by the SQLite ledger.
enum DropCondition: Sendable, Equatable {
    /// No planned delivery of the drop needs a transcode.
    case noTranscodePlanned
    /// Every delivery of the drop is final.
    case allDeliveriesFinal
    /// The drop's taken clip is at most this many bytes.
    case clipAtMost(Int64)
    /// The drop last moved (was validated, for a conversion) at or before this time.
    case updatedAtMost(Double)
    /// The drop is not an entry of a clip list.
    case notAListEntry
    /// Every one of these.
    indirect case all([DropCondition])

    var sql: String {
        switch self {
        case .noTranscodePlanned:
            "NOT EXISTS (SELECT 1 FROM deliveries q WHERE q.drop_id = drops.id AND q.state = 'planned' AND q.plan = '\(PlanKind.transcode.rawValue)')"
        case .allDeliveriesFinal:
            "NOT EXISTS (SELECT 1 FROM deliveries WHERE deliveries.drop_id = drops.id AND deliveries.state NOT IN (\(DeliveryState.finalSQLList)))"
        case .clipAtMost(let bytes):
            "NOT EXISTS (SELECT 1 FROM files f WHERE f.path = drops.clip_path AND f.drop_id = drops.id AND f.size > \(bytes))"
        case .updatedAtMost(let t):
            "drops.updated_at <= \(t)"
        case .notAListEntry:
            "drops.manifest_entry IS NULL"
        case .all(let conditions):
            conditions.map { "(\($0.sql))" }.joined(separator: " AND ")
        }
    }
}

extension DeliveryState {
    /// The final states as an SQL list (`'published','failed','cancelled'`), from the one place that says which they are.
    static var finalSQLList: String { allCases.filter(\.isTerminal).map { "'\($0.rawValue)'" }.joined(separator: ",") }
}
