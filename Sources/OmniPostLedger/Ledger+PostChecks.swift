import Foundation
import GRDB
import OmniPostCore

/// After the post (issue 25): published posts read back until verified, then their numbers as a time
/// series. The verify stage decides what a read means; these are the reads and writes it names.
extension Ledger {
    /// Enters every published delivery that has no read-back yet, its first read due now. Returns how many.
    @discardableResult
    package func enrolPublishedPosts() throws -> Int {
        let now = self.now
        return try write { db, _ in
            try db.execute(
                sql: """
                    INSERT INTO post_checks (delivery_id, target, platform, account, remote_id, published_at, state, next_read_at, updated_at)
                    SELECT d.id, d.target, d.platform, d.account, COALESCE(d.remote_id, ''), COALESCE(d.upload_finished_at, d.updated_at),
                        'pending', ?, ?
                    FROM deliveries d WHERE d.state = 'published' AND NOT EXISTS (SELECT 1 FROM post_checks c WHERE c.delivery_id = d.id)
                    """, arguments: [now, now])
            return db.changesCount
        }
    }

    /// Read-backs with a read due now (a verification read or a metrics read), soonest first.
    package func duePostChecks(limit: Int) throws -> [PostCheckRecord] {
        let now = self.now
        return try read { db in
            try PostCheckRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM post_checks WHERE next_read_at <= ? OR next_metrics_at <= ?
                    ORDER BY MIN(COALESCE(next_read_at, 1e18), COALESCE(next_metrics_at, 1e18)) LIMIT ?
                    """, arguments: [now, now, limit])
        }
    }

    /// When the next read of any post is due; nil when none is planned.
    package func nextPostCheckDue() throws -> Date? {
        try read { db in
            let t = try Double.fetchOne(
                db, sql: "SELECT MIN(MIN(COALESCE(next_read_at, 1e18)), MIN(COALESCE(next_metrics_at, 1e18))) FROM post_checks")
            return t.flatMap { $0 >= 1e18 ? nil : Date(timeIntervalSince1970: $0) }
        }
    }

    /// Verifications still waiting for a read within `horizon` seconds (`--once` waits for those).
    package func pendingVerifications(horizon: Double) throws -> Int {
        let limit = now + horizon
        return try read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM post_checks WHERE state = 'pending' AND next_read_at <= ?", arguments: [limit]) ?? 0
        }
    }

    package func postCheck(deliveryId: Int64) throws -> PostCheckRecord? {
        try read { db in try PostCheckRecord.fetchOne(db, key: deliveryId) }
    }

    package func postChecks(deliveryIds: [Int64]) throws -> [Int64: PostCheckRecord] {
        try read { db in
            Dictionary(uniqueKeysWithValues: try PostCheckRecord.fetchAll(db, keys: deliveryIds).map { ($0.deliveryId, $0) })
        }
    }

    /// A post's numbers, oldest first.
    package func postMetrics(deliveryId: Int64) throws -> [PostMetricsRow] {
        try read { db in
            try PostMetricsRow.fetchAll(db, sql: "SELECT * FROM post_metrics WHERE delivery_id = ? ORDER BY at", arguments: [deliveryId])
        }
    }

    /// Counts of read-back outcomes (`/metrics`): state, reason code (empty when none), how many.
    package func postCheckOutcomes() throws -> [(state: String, reason: String, count: Int)] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT state, COALESCE(reason_code, '') AS reason, COUNT(*) AS n FROM post_checks GROUP BY state, reason_code ORDER BY state, reason"
            ).map { ($0["state"], $0["reason"], $0["n"]) }
        }
    }

    /// Writes what one read found, in one transaction: the read-back's new standing, the numbers it read
    /// (if any), and — when the verification settles or the numbers end — an event saying so.
    package func recordPostRead(_ check: PostCheckRecord, metrics: PostMetrics?, event: (kind: EventKind, detail: String)?) throws {
        let now = self.now
        try write { db, events in
            var c = check
            c.updatedAt = now
            try c.update(db)
            if let metrics {
                try PostMetricsRow(deliveryId: c.deliveryId, at: now, ageSeconds: max(0, now - c.publishedAt), metrics).insert(db, onConflict: .replace)
            }
            if let event {
                let dropId = try String.fetchOne(db, sql: "SELECT drop_id FROM deliveries WHERE id = ?", arguments: [c.deliveryId])
                var e = EventRecord(
                    at: now, dropId: dropId, deliveryId: c.deliveryId, target: c.target, stage: EventStage.verify.rawValue,
                    toState: event.kind.rawValue, detail: event.detail, data: .readBack(reason: c.reasonCode))
                try e.insert(db)
                events.append(e)
            }
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
        try read { db in
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM deliveries WHERE state = 'uploading' AND platform = ? AND account = ?)",
                arguments: [platform, account]) ?? false
        }
    }
}
