import Foundation

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
        return try readSQL { sql in
            var out = (first...last).map { HourFigures(hour: $0) }
            let publishedHour = sql.dialect.wholePart("COALESCE(upload_finished_at, updated_at) / 3600")
            for r in try sql.rows(
                """
                SELECT \(publishedHour) AS h, count(*) AS n FROM deliveries
                WHERE state = 'published' AND COALESCE(upload_finished_at, updated_at) >= ? GROUP BY \(publishedHour)
                """, since)
            {
                let h = Int(r.int("h") ?? 0)
                if h >= first, h <= last { out[h - first].published = Int(r.int("n") ?? 0) }
            }
            // `ok` as 1/0 on both (a comparison is a boolean on PostgreSQL), NULL where the outcome is.
            let finishedHour = sql.dialect.wholePart("finished_at / 3600")
            let ok = "CASE WHEN outcome IS NULL THEN NULL WHEN outcome = 'published' THEN 1 ELSE 0 END"
            for r in try sql.rows(
                """
                SELECT \(finishedHour) AS h, \(ok) AS ok, count(*) AS n,
                       sum(bytes_sent) AS b, sum(CASE WHEN bytes_sent > 0 THEN finished_at - started_at ELSE 0 END) AS s
                FROM attempts WHERE finished_at >= ? AND outcome NOT IN ('deferred', 'cancelled') GROUP BY \(finishedHour), \(ok)
                """, since)
            {
                let h = Int(r.int("h") ?? 0)
                guard h >= first, h <= last else { continue }
                let n = Int(r.int("n") ?? 0)
                if r.int("ok") == 1 { out[h - first].attemptsOK += n } else { out[h - first].attemptsFailed += n }
                out[h - first].bytes += r.int("b") ?? 0
                out[h - first].seconds += r.double("s") ?? 0
            }
            for i in out.indices {
                let end = Double((out[i].hour + 1) * 3600)
                out[i].queueDepth = Int(
                    try sql.int(
                        """
                        SELECT count(*) AS n FROM deliveries WHERE created_at < ?
                        AND NOT (state IN ('published', 'failed', 'cancelled') AND updated_at < ?)
                        """, [.real(end), .real(end)]) ?? 0)
            }
            return out
        }
    }

    /// Published and failed deliveries per platform since `since` (the overview's "today").
    package func outcomesByPlatform(since: Double) throws -> [String: (published: Int, failed: Int)] {
        try readSQL { sql in
            var out: [String: (published: Int, failed: Int)] = [:]
            for r in try sql.rows(
                "SELECT platform, state, count(*) AS n FROM deliveries WHERE state IN ('published', 'failed') AND updated_at >= ? GROUP BY platform, state", since)
            {
                let p = r.text("platform") ?? "", s = r.text("state") ?? "", n = Int(r.int("n") ?? 0)
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
        return try readSQL { sql in
            var out: [String: String] = [:]
            let marks = Self.marks(drops.count)
            for r in try sql.rows(
                "SELECT drop_id, target, detail FROM events WHERE stage = 'convert' AND to_state = 'progress' AND drop_id IN (\(marks)) ORDER BY id",
                drops.map(\.sqlValue))
            {
                let d = r.text("drop_id") ?? "", t = r.text("target")
                out["\(d)/\(t ?? "")"] = r.text("detail")
            }
            return out
        }
    }

    /// The newest event's id: what the dashboard's live stream watches for change.
    package func lastEventId() throws -> Int64 {
        try readSQL { sql in try sql.int("SELECT max(id) AS n FROM events") ?? 0 }
    }

    /// Deliveries not yet final (the queue), whatever the ledger's history holds.
    package func openDeliveries() throws -> [DeliveryRecord] {
        let open = DeliveryState.allCases.filter { !$0.isTerminal }.map(\.rawValue)
        return try readSQL { sql in
            try sql.fetchAll(DeliveryRecord.self, "SELECT * FROM deliveries WHERE state IN (\(sqlMarks(open.count)))", open.map(SQLValue.text))
        }
    }

    /// Deliveries in the given states, newest first.
    package func deliveries(in states: [DeliveryState], limit: Int = 500) throws -> [DeliveryRecord] {
        guard !states.isEmpty else { return [] }
        return try readSQL { sql in
            try sql.fetchAll(
                DeliveryRecord.self, "SELECT * FROM deliveries WHERE state IN (\(sqlMarks(states.count))) ORDER BY updated_at DESC LIMIT ?",
                states.map { .text($0.rawValue) } + [.integer(Int64(limit))])
        }
    }
}
