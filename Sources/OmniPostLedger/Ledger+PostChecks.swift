import Foundation
import OmniPostCore

/// After the post (issue 25): published posts read back until verified, then their numbers as a time
/// series. The verify stage decides what a read means; these are the reads and writes it names.
extension Ledger {
    /// Enters every published delivery that has no read-back yet, its first read due now. Returns how many.
    /// A published delivery (`d`) with no read-back yet: what the enrolment enters, and what its look asks
    /// for — one text, so the look never finds nothing where the insert would have entered something.
    static let unenrolledPost = "d.state = 'published' AND NOT EXISTS (SELECT 1 FROM post_checks c WHERE c.delivery_id = d.id)"

    @discardableResult
    package func enrolPublishedPosts() throws -> Int {
        let now = self.now
        // Rung for every post, most of which the upload stage entered with its first read (a folder's, a
        // command's): on this host's SQLite ledger a read asks first whether any is left to enter, and the
        // write transaction is taken only then (Ledger+ClaimLook.swift; the shared ledger inserts at once).
        if looksBeforeClaiming {
            let any = try readSQL { sql in
                try sql.row("SELECT 1 FROM deliveries d WHERE \(Self.unenrolledPost) LIMIT 1") != nil
            }
            guard any else { return 0 }
        }
        return try writeSQL { sql, _ in
            // Two hosts enrolling at once: the second's insert of a row the first just made is skipped by
            // the primary key (`ON CONFLICT DO NOTHING`) rather than failing its transaction.
            try sql.run(
                """
                INSERT INTO post_checks (delivery_id, target, platform, account, remote_id, published_at, state, next_read_at, updated_at)
                SELECT d.id, d.target, d.platform, d.account, COALESCE(d.remote_id, ''), COALESCE(d.upload_finished_at, d.updated_at),
                    'pending', ?, ?
                FROM deliveries d WHERE \(Self.unenrolledPost)
                ON CONFLICT DO NOTHING
                """, now, now)
        }
    }

    /// Read-backs with a read due now (a verification read or a metrics read), soonest first.
    package func duePostChecks(limit: Int) throws -> [PostCheckRecord] {
        let now = self.now
        return try readSQL { sql in
            try sql.fetchAll(
                PostCheckRecord.self,
                """
                SELECT * FROM post_checks WHERE next_read_at <= ? OR next_metrics_at <= ?
                ORDER BY \(sql.dialect.least("COALESCE(next_read_at, 1e18)", "COALESCE(next_metrics_at, 1e18)")) LIMIT ?
                """, [.real(now), .real(now), .integer(Int64(limit))])
        }
    }

    /// When the next read of any post is due; nil when none is planned.
    package func nextPostCheckDue() throws -> Date? {
        try readSQL { sql in
            let t = try sql.row(
                "SELECT \(sql.dialect.least("MIN(COALESCE(next_read_at, 1e18))", "MIN(COALESCE(next_metrics_at, 1e18))")) AS t FROM post_checks")?.double("t")
            return t.flatMap { $0 >= 1e18 ? nil : Date(timeIntervalSince1970: $0) }
        }
    }

    /// Verifications still waiting for a read within `horizon` seconds (`--once` waits for those).
    package func pendingVerifications(horizon: Double) throws -> Int {
        let limit = now + horizon
        return try readSQL { sql in
            Int(try sql.int("SELECT COUNT(*) AS n FROM post_checks WHERE state = 'pending' AND next_read_at <= ?", [.real(limit)]) ?? 0)
        }
    }

    package func postCheck(deliveryId: Int64) throws -> PostCheckRecord? {
        try readSQL { sql in try sql.fetchOne(PostCheckRecord.self, "SELECT * FROM post_checks WHERE delivery_id = ?", [.integer(deliveryId)]) }
    }

    package func postChecks(deliveryIds: [Int64]) throws -> [Int64: PostCheckRecord] {
        guard !deliveryIds.isEmpty else { return [:] }
        return try readSQL { sql in try Self.postChecks(deliveryIds: deliveryIds, sql) }
    }

    static func postChecks(deliveryIds: [Int64], _ sql: any LedgerSQL) throws -> [Int64: PostCheckRecord] {
        guard !deliveryIds.isEmpty else { return [:] }
        return Dictionary(
            uniqueKeysWithValues: try sql.fetchAll(
                PostCheckRecord.self, "SELECT * FROM post_checks WHERE delivery_id IN (\(sqlMarks(deliveryIds.count)))", deliveryIds.map(\.sqlValue)
            ).map { ($0.deliveryId, $0) })
    }

    /// A post's numbers, oldest first.
    package func postMetrics(deliveryId: Int64) throws -> [PostMetricsRow] {
        try readSQL { sql in
            try sql.rows("SELECT * FROM post_metrics WHERE delivery_id = ? ORDER BY at", deliveryId).map(PostMetricsRow.init(row:))
        }
    }

    /// Counts of read-back outcomes (`/metrics`): state, reason code (empty when none), how many.
    package func postCheckOutcomes() throws -> [(state: String, reason: String, count: Int)] {
        try readSQL { sql in
            try sql.rows("SELECT state, COALESCE(reason_code, '') AS reason, COUNT(*) AS n FROM post_checks GROUP BY state, reason_code ORDER BY state, reason")
                .map { ($0.text("state") ?? "", $0.text("reason") ?? "", Int($0.int("n") ?? 0)) }
        }
    }

    /// Writes what one read found, in one transaction: the read-back's new standing, the numbers it read
    /// (if any), and — when the verification settles or the numbers end — an event saying so.
    package func recordPostRead(_ check: PostCheckRecord, metrics: PostMetrics?, event: (kind: EventKind, detail: String)?) throws {
        let now = self.now
        try writeSQL { sql, events in
            var c = check
            c.updatedAt = now
            try sql.update(c, in: "post_checks", key: "delivery_id")
            let dropId = try event == nil ? nil : sql.row("SELECT drop_id FROM deliveries WHERE id = ?", [.integer(c.deliveryId)])?.text("drop_id")
            try Self.recordRead(of: c, metrics: metrics, event: event, dropId: dropId, now: now, sql, &events)
        }
    }

    /// A read's numbers and its event, beside its `post_checks` row (written by the caller).
    static func recordRead(
        of c: PostCheckRecord, metrics: PostMetrics?, event: (kind: EventKind, detail: String)?, dropId: String?, now: Double,
        _ sql: any LedgerSQL, _ events: inout [EventRecord]
    ) throws {
        if let metrics {
            try PostMetricsRow(deliveryId: c.deliveryId, at: now, ageSeconds: max(0, now - c.publishedAt), metrics).save(sql)
        }
        if let event {
            try Self.record(
                EventRecord(
                    at: now, dropId: dropId, deliveryId: c.deliveryId, target: c.target, stage: EventStage.verify.rawValue,
                    toState: event.kind.rawValue, detail: event.detail, data: .readBack(reason: c.reasonCode)),
                sql, &events)
        }
    }

    /// Spends `units` of an account's quota rule for a read, where the rule keeps room for a new post
    /// after it (a read never takes what an upload needs): nil when spent, else when it would fit.
    package func spendRead(account key: String, rule: QuotaRule, units: Int) throws -> Date? {
        try writeSQL { sql, _ in
            let now = Date(timeIntervalSince1970: self.now)
            var both = rule
            both.cost = rule.cost + units
            try sql.dialect.lockAccount(key, sql)
            let spends = try Self.spends(sql, account: key, rule: rule, now: now)
            if let w = both.wait(spends: spends, now: now) { return w }
            try sql.run("INSERT INTO quota_spends(account, rule, at, units, delivery_id) VALUES (?,?,?,?,NULL)", key, rule.name, now.timeIntervalSince1970, units)
            return nil
        }
    }

    /// Whether the account has an upload in flight (reads of its posts wait for it: they share its request windows).
    package func isUploading(platform: String, account: String) throws -> Bool {
        try readSQL { sql in
            try sql.row("SELECT 1 AS one FROM deliveries WHERE state = 'uploading' AND platform = ? AND account = ? LIMIT 1", [.text(platform), .text(account)]) != nil
        }
    }
}
