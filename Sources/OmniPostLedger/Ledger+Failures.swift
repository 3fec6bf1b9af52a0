import Foundation
import GRDB
import OmniPostCore

/// What the failures list and the drops history read. A failure is a to-do item: it leaves the list
/// once something later published what it failed to, and an operator may acknowledge one. Both are
/// read from rows the ledger already keeps (drops, deliveries, events), so no new table is needed: an
/// acknowledgement is an event (`control` → `acknowledged`) on the drop or delivery, kept like every
/// other fact and never deleted.
extension Ledger {
    /// Later work that published what these failed drops did not, by failed drop id: a later drop of the
    /// same name or the same clip that was archived or published anywhere (a retry comes back as such a
    /// drop), or — for a drop that failed at its deliveries — every failed delivery published since by a
    /// later delivery of the same content to the same target.
    package func supersededDrops(_ ids: [String]) throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        return try read { db in
            var out: [String: String] = [:]
            let marks = Self.marks(ids.count)
            let failed = try Row.fetchAll(db, sql: "SELECT id, stem, clip_sha256, created_at FROM drops WHERE id IN (\(marks))", arguments: StatementArguments(ids))
            let stems = Set(failed.map { $0["stem"] as String }), clips = Set(failed.compactMap { $0["clip_sha256"] as String? })
            // One pass over the drops that could supersede these (same name or clip, and published), not one
            // scan per failed drop: `stem` has no index, and the list is read on every dashboard page. The
            // `+` keeps SQLite from reaching a drop's deliveries through the state index (every published
            // delivery) instead of the drop's own: 5.8 s against 0.1 s on a ledger of 50,000 drops.
            let later = try Row.fetchAll(
                db,
                sql: """
                    SELECT l.id, l.stem, l.clip_sha256, l.created_at FROM drops l
                    WHERE (l.stem IN (\(Self.marks(stems.count))) OR l.clip_sha256 IN (\(Self.marks(clips.count))))
                      AND (l.state = 'archived' OR EXISTS (SELECT 1 FROM deliveries p WHERE p.drop_id = l.id AND +p.state = 'published'))
                    ORDER BY l.created_at
                    """, arguments: StatementArguments(Array(stems) + Array(clips)))
            // Oldest first, by name and by clip: each failed drop takes the first later one.
            var byStem: [String: [(id: String, at: Double)]] = [:], byClip: [String: [(id: String, at: Double)]] = [:]
            for l in later {
                let entry = (id: l["id"] as String, at: l["created_at"] as Double)
                byStem[l["stem"], default: []].append(entry)
                if let c: String = l["clip_sha256"] { byClip[c, default: []].append(entry) }
            }
            for f in failed {
                let id: String = f["id"], at: Double = f["created_at"]
                let candidates = (byStem[f["stem"]] ?? []) + ((f["clip_sha256"] as String?).flatMap { byClip[$0] } ?? [])
                if let by = candidates.filter({ $0.at > at && $0.id != id }).min(by: { $0.at < $1.at }) { out[id] = by.id }
            }
            // Published since at the delivery level: the drop has failed deliveries, and none is left unpublished.
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT f.drop_id AS failed, max(p.drop_id) AS later FROM deliveries f
                    LEFT JOIN deliveries p ON p.content_sha256 = f.content_sha256 AND p.target = f.target AND p.state = 'published' AND p.id > f.id
                    WHERE f.drop_id IN (\(marks)) AND f.state = 'failed'
                    GROUP BY f.drop_id HAVING count(*) = count(p.id)
                    """, arguments: StatementArguments(ids))
            {
                let failed: String = r["failed"]
                if out[failed] == nil, let later: String = r["later"] { out[failed] = later }
            }
            return out
        }
    }

    /// Failed deliveries published since by a later delivery of the same content to the same target:
    /// failed delivery id → the delivery that published.
    package func supersededDeliveries(_ ids: [Int64]) throws -> [Int64: Int64] {
        guard !ids.isEmpty else { return [:] }
        return try read { db in
            let marks = Self.marks(ids.count)
            var out: [Int64: Int64] = [:]
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT f.id AS failed, min(p.id) AS later FROM deliveries f
                    JOIN deliveries p ON p.content_sha256 = f.content_sha256 AND p.target = f.target AND p.state = 'published' AND p.id > f.id
                    WHERE f.id IN (\(marks)) GROUP BY f.id
                    """, arguments: StatementArguments(ids))
            {
                out[r["failed"]] = r["later"]
            }
            return out
        }
    }

    /// `?,?,…`: one SQL placeholder per value of an `IN (…)` list.
    static func marks(_ n: Int) -> String { Array(repeating: "?", count: n).joined(separator: ",") }

    /// The failed deliveries of these drops, in one read.
    package func failedDeliveries(ofDrops ids: [String]) throws -> [DeliveryRecord] {
        guard !ids.isEmpty else { return [] }
        return try read { db in
            try DeliveryRecord.fetchAll(
                db, sql: "SELECT * FROM deliveries WHERE drop_id IN (\(Self.marks(ids.count))) AND state = 'failed' ORDER BY id", arguments: StatementArguments(ids))
        }
    }

    /// An operator's acknowledgement of a failed drop or delivery.
    package struct Acknowledgement: Sendable, Equatable {
        package var at: Double
        package var detail: String
    }

    /// The newest acknowledgement of each drop and each delivery that has one.
    package func acknowledgements() throws -> (drops: [String: Acknowledgement], deliveries: [Int64: Acknowledgement]) {
        try read { db in
            var drops: [String: Acknowledgement] = [:], deliveries: [Int64: Acknowledgement] = [:]
            for e in try EventRecord.filter(Column("stage") == EventStage.control.rawValue && Column("to_state") == EventKind.acknowledged.rawValue)
                .order(Column("id")).fetchAll(db)
            {
                let a = Acknowledgement(at: e.at, detail: e.detail ?? "")
                if let d = e.deliveryId { deliveries[d] = a } else if let d = e.dropId { drops[d] = a }
            }
            return (drops, deliveries)
        }
    }

    /// Records that `who` acknowledged a failed drop (or, with `delivery`, one failed delivery of it).
    package func acknowledge(dropId: String, delivery: Int64? = nil, target: String? = nil, by who: String) throws {
        try note(
            .acknowledged, stage: .control, dropId: dropId, deliveryId: delivery, target: target,
            detail: "acknowledged by \(who): it stays in the ledger and leaves the failures list")
    }

    /// A page of the drops history: what matches, newest first (then by id, so a page boundary never
    /// moves while drops come in below it), and how many match in all.
    package struct DropQuery: Sendable, Equatable {
        /// Part of the drop's name (its stem), any case.
        package var name: String?
        package var target: String?
        package var state: DropState?
        /// Came in at or after / before these times (epoch seconds).
        package var from: Double?
        package var until: Double?
        package var limit = 50
        package var offset = 0
        package init() {}
    }

    package func searchDrops(_ q: DropQuery) throws -> (drops: [DropRecord], total: Int) {
        var clauses: [String] = [], args: [DatabaseValue] = []
        if let n = q.name, !n.isEmpty {
            // LIKE with its wildcards escaped: a name with `_` or `%` is looked for as written.
            let escaped = n.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
            clauses.append("stem LIKE ? ESCAPE '\\'")
            args.append("%\(escaped)%".databaseValue)
        }
        if let t = q.target, !t.isEmpty {
            clauses.append("EXISTS (SELECT 1 FROM deliveries x WHERE x.drop_id = drops.id AND x.target = ?)")
            args.append(t.databaseValue)
        }
        if let s = q.state { clauses.append("state = ?"); args.append(s.rawValue.databaseValue) }
        if let f = q.from { clauses.append("created_at >= ?"); args.append(f.databaseValue) }
        if let u = q.until { clauses.append("created_at < ?"); args.append(u.databaseValue) }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let values = args, page = [q.limit.databaseValue, q.offset.databaseValue]
        return try read { db in
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM drops \(whereSQL)", arguments: StatementArguments(values)) ?? 0
            let rows = try DropRecord.fetchAll(
                db, sql: "SELECT * FROM drops \(whereSQL) ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                arguments: StatementArguments(values + page))
            return (rows, total)
        }
    }

    /// The targets the ledger has deliveries for (the history page's target choice).
    package func knownTargets() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT DISTINCT target FROM deliveries ORDER BY target") }
    }
}
