import Foundation
import GRDB

/// What the dashboard's overview and charts read: counts and sums done in SQL, so a page costs a few
/// indexed queries however long the ledger's history grows.
extension Ledger {
    /// One hour of history (`hour` is seconds since 1970 / 3600).
    package struct HourFigures: Sendable, Equatable {
        package var hour: Int
        package var published = 0
        /// Attempts that ended, by whether they published (deferred and cancelled ones say nothing about uploads).
        package var attemptsOK = 0
        package var attemptsFailed = 0
        /// Bytes sent and seconds spent by attempts that sent anything: their ratio is the upload speed.
        package var bytes: Int64 = 0
        package var seconds: Double = 0
        /// Deliveries not yet final at the end of the hour.
        package var queueDepth = 0
    }

    /// The last `hours` whole hours up to now, oldest first.
    package func hourly(hours: Int, now: Double) throws -> [HourFigures] {
        let last = Int(now / 3600)
        let first = last - hours + 1
        let since = Double(first * 3600)
        return try read { db in
            var out = (first...last).map { HourFigures(hour: $0) }
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT CAST(COALESCE(upload_finished_at, updated_at) / 3600 AS INTEGER) AS h, count(*) AS n FROM deliveries
                    WHERE state = 'published' AND COALESCE(upload_finished_at, updated_at) >= ? GROUP BY h
                    """, arguments: [since])
            {
                let h: Int = r["h"]
                if h >= first, h <= last { out[h - first].published = r["n"] }
            }
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT CAST(finished_at / 3600 AS INTEGER) AS h, outcome = 'published' AS ok, count(*) AS n,
                           sum(bytes_sent) AS b, sum(CASE WHEN bytes_sent > 0 THEN finished_at - started_at ELSE 0 END) AS s
                    FROM attempts WHERE finished_at >= ? AND outcome NOT IN ('deferred', 'cancelled') GROUP BY h, ok
                    """, arguments: [since])
            {
                let h: Int = r["h"]
                guard h >= first, h <= last else { continue }
                let n: Int = r["n"]
                if (r["ok"] as Bool?) == true { out[h - first].attemptsOK += n } else { out[h - first].attemptsFailed += n }
                out[h - first].bytes += (r["b"] as Int64?) ?? 0
                out[h - first].seconds += (r["s"] as Double?) ?? 0
            }
            for i in out.indices {
                let end = Double((out[i].hour + 1) * 3600)
                out[i].queueDepth =
                    try Int.fetchOne(
                        db,
                        sql: """
                            SELECT count(*) FROM deliveries WHERE created_at < ?
                            AND NOT (state IN ('published', 'failed', 'cancelled') AND updated_at < ?)
                            """, arguments: [end, end]) ?? 0
            }
            return out
        }
    }

    /// Published and failed deliveries per platform since `since` (the overview's "today").
    package func outcomesByPlatform(since: Double) throws -> [String: (published: Int, failed: Int)] {
        try read { db in
            var out: [String: (published: Int, failed: Int)] = [:]
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT platform, state, count(*) AS n FROM deliveries WHERE state IN ('published', 'failed') AND updated_at >= ? GROUP BY platform, state
                    """, arguments: [since])
            {
                let p: String = r["platform"], s: String = r["state"], n: Int = r["n"]
                var v = out[p] ?? (0, 0)
                if s == "published" { v.published = n } else { v.failed = n }
                out[p] = v
            }
            return out
        }
    }

    /// Each drop's latest conversion progress line ("50% at 2.1x"), by drop and target.
    package func convertProgress(drops: [String]) throws -> [String: String] {
        guard !drops.isEmpty else { return [:] }
        return try read { db in
            var out: [String: String] = [:]
            let marks = Self.marks(drops.count)
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT drop_id, target, detail FROM events WHERE stage = 'convert' AND to_state = 'progress' AND drop_id IN (\(marks)) ORDER BY id
                    """, arguments: StatementArguments(drops))
            {
                let d: String = r["drop_id"], t: String? = r["target"]
                out["\(d)/\(t ?? "")"] = r["detail"]
            }
            return out
        }
    }

    /// The newest event's id: what the dashboard's live stream watches for change.
    package func lastEventId() throws -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM events") ?? 0 }
    }

    /// Deliveries not yet final (the queue), whatever the ledger's history holds.
    package func openDeliveries() throws -> [DeliveryRecord] {
        try read { db in
            try DeliveryRecord.filter(DeliveryState.allCases.filter { !$0.isTerminal }.map(\.rawValue).contains(Column("state"))).fetchAll(db)
        }
    }

    /// Deliveries in the given states, newest first.
    package func deliveries(in states: [DeliveryState], limit: Int = 500) throws -> [DeliveryRecord] {
        try read { db in
            try DeliveryRecord.filter(states.map(\.rawValue).contains(Column("state"))).order(Column("updated_at").desc).limit(limit).fetchAll(db)
        }
    }
}
