import Foundation
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
        return try readSQL { sql in
            var out: [String: String] = [:]
            let marks = Self.marks(ids.count)
            let failed = try sql.rows("SELECT id, stem, clip_sha256, created_at FROM drops WHERE id IN (\(marks))", ids.map(\.sqlValue))
            let stems = Set(failed.compactMap { $0.text("stem") }), clips = Set(failed.compactMap { $0.text("clip_sha256") })
            // One pass over the drops that could supersede these (same name or clip, and published), not one
            // scan per failed drop: `stem` has no index, and the list is read on every dashboard page. The
            // `+` keeps SQLite from reaching a drop's deliveries through the state index (every published
            // delivery) instead of the drop's own: 5.8 s against 0.1 s on a ledger of 50,000 drops
            // (`SQLDialect.unindexed`; PostgreSQL's planner needs no such hint).
            let later = try sql.rows(
                """
                SELECT l.id, l.stem, l.clip_sha256, l.created_at FROM drops l
                WHERE (l.stem IN (\(sqlMarks(stems.count))) OR l.clip_sha256 IN (\(sqlMarks(clips.count))))
                  AND (l.state = 'archived' OR EXISTS (SELECT 1 FROM deliveries p WHERE p.drop_id = l.id AND \(sql.dialect.unindexed("p.state")) = 'published'))
                ORDER BY l.created_at
                """, Self.orNull(Array(stems)) + Self.orNull(Array(clips)))
            // Oldest first, by name and by clip: each failed drop takes the first later one.
            var byStem: [String: [(id: String, at: Double)]] = [:], byClip: [String: [(id: String, at: Double)]] = [:]
            for l in later {
                let entry = (id: l.text("id") ?? "", at: l.double("created_at") ?? 0)
                byStem[l.text("stem") ?? "", default: []].append(entry)
                if let c = l.text("clip_sha256") { byClip[c, default: []].append(entry) }
            }
            for f in failed {
                let id = f.text("id") ?? "", at = f.double("created_at") ?? 0
                let candidates = (byStem[f.text("stem") ?? ""] ?? []) + (f.text("clip_sha256").flatMap { byClip[$0] } ?? [])
                if let by = candidates.filter({ $0.at > at && $0.id != id }).min(by: { $0.at < $1.at }) { out[id] = by.id }
            }
            // Published since at the delivery level: the drop has failed deliveries, and none is left unpublished.
            for r in try sql.rows(
                """
                SELECT f.drop_id AS failed, max(p.drop_id) AS later FROM deliveries f
                LEFT JOIN deliveries p ON p.content_sha256 = f.content_sha256 AND p.target = f.target AND p.state = 'published' AND p.id > f.id
                WHERE f.drop_id IN (\(marks)) AND f.state = 'failed'
                GROUP BY f.drop_id HAVING count(*) = count(p.id)
                """, ids.map(\.sqlValue))
            {
                if let failed = r.text("failed"), out[failed] == nil, let later = r.text("later") { out[failed] = later }
            }
            return out
        }
    }

    /// The values of an `IN (…)` list, or one NULL when there are none (`IN (NULL)` matches nothing, as
    /// GRDB's empty list did: `IN ()` is no statement).
    static func orNull(_ values: [String]) -> [SQLValue] { values.isEmpty ? [.null] : values.map(SQLValue.text) }

    /// Failed deliveries published since by a later delivery of the same content to the same target:
    /// failed delivery id → the delivery that published.
    package func supersededDeliveries(_ ids: [Int64]) throws -> [Int64: Int64] {
        guard !ids.isEmpty else { return [:] }
        return try readSQL { sql in
            let marks = Self.marks(ids.count)
            var out: [Int64: Int64] = [:]
            for r in try sql.rows(
                """
                SELECT f.id AS failed, min(p.id) AS later FROM deliveries f
                JOIN deliveries p ON p.content_sha256 = f.content_sha256 AND p.target = f.target AND p.state = 'published' AND p.id > f.id
                WHERE f.id IN (\(marks)) GROUP BY f.id
                """, ids.map(\.sqlValue))
            {
                if let f = r.int("failed") { out[f] = r.int("later") }
            }
            return out
        }
    }

    /// `?,?,…`: one SQL placeholder per value of an `IN (…)` list.
    static func marks(_ n: Int) -> String { Array(repeating: "?", count: n).joined(separator: ",") }

    /// The failed deliveries of these drops, in one read.
    package func failedDeliveries(ofDrops ids: [String]) throws -> [DeliveryRecord] {
        guard !ids.isEmpty else { return [] }
        return try readSQL { sql in
            try sql.fetchAll(
                DeliveryRecord.self, "SELECT * FROM deliveries WHERE drop_id IN (\(Self.marks(ids.count))) AND state = 'failed' ORDER BY id", ids.map(\.sqlValue))
        }
    }

    /// An operator's acknowledgement of a failed drop or delivery.
    package struct Acknowledgement: Sendable, Equatable {
        package var at: Double
        package var detail: String
    }

    /// The newest acknowledgement of each drop and each delivery that has one.
    package func acknowledgements() throws -> (drops: [String: Acknowledgement], deliveries: [Int64: Acknowledgement]) {
        try readSQL { sql in
            var drops: [String: Acknowledgement] = [:], deliveries: [Int64: Acknowledgement] = [:]
            for e in try sql.fetchAll(
                EventRecord.self, "SELECT * FROM events WHERE stage = ? AND to_state = ? ORDER BY id",
                [.text(EventStage.control.rawValue), .text(EventKind.acknowledged.rawValue)])
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
        return try readSQL { sql in
            var clauses: [String] = [], args: [SQLValue] = []
            if let n = q.name, !n.isEmpty {
                // LIKE with its wildcards escaped: a name with `_` or `%` is looked for as written; any case
                // on both backends (`SQLDialect.likeAnyCase`).
                let escaped = n.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
                clauses.append("stem \(sql.dialect.likeAnyCase) ? ESCAPE '\\'")
                args.append(.text("%\(escaped)%"))
            }
            if let t = q.target, !t.isEmpty {
                clauses.append("EXISTS (SELECT 1 FROM deliveries x WHERE x.drop_id = drops.id AND x.target = ?)")
                args.append(.text(t))
            }
            if let s = q.state { clauses.append("state = ?"); args.append(.text(s.rawValue)) }
            if let f = q.from { clauses.append("created_at >= ?"); args.append(.real(f)) }
            if let u = q.until { clauses.append("created_at < ?"); args.append(.real(u)) }
            let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
            let total = Int(try sql.int("SELECT count(*) AS n FROM drops \(whereSQL)", args) ?? 0)
            let rows = try sql.fetchAll(
                DropRecord.self, "SELECT * FROM drops \(whereSQL) ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                args + [.integer(Int64(q.limit)), .integer(Int64(q.offset))])
            return (rows, total)
        }
    }

    /// The targets the ledger has deliveries for (the history page's target choice).
    package func knownTargets() throws -> [String] {
        try readSQL { sql in try sql.rows("SELECT DISTINCT target FROM deliveries ORDER BY target").compactMap { $0.text("target") } }
    }
}
