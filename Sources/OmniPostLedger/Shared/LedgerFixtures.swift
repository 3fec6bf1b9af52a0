import Foundation

/// Deliveries ready to upload with no clip behind them, one drop each: what `make bench` claims and the
/// shared ledger's tests claim (on SQLite and PostgreSQL alike). Never called by the pipeline.
enum LedgerFixtures {
    static func readyDeliveries(_ sql: some LedgerSQL, count: Int, now: Double) throws {
        for i in 0..<count {
            let drop = String(format: "fixture-%06d", i)
            try sql.run("INSERT INTO drops (id, pipeline, stem, state, created_at, updated_at) VALUES (?, 'fixture', ?, 'converted', ?, ?)", drop, drop, now, now)
            try sql.run(
                """
                INSERT INTO deliveries (drop_id, target, platform, account, profile, state, plan, metadata_json, content_sha256, created_at, updated_at)
                VALUES (?, 'folder:nas', 'folder', 'nas', 'any', 'ready', 'pass', '{}', ?, ?, ?)
                """, drop, "fixture-\(i)", now, now)
        }
    }
}

extension Ledger {
    /// `count` deliveries ready to upload (`LedgerFixtures`), for the bench.
    package func plantReadyDeliveries(count: Int) throws {
        let now = self.now
        try writeSQL { sql, _ in try LedgerFixtures.readyDeliveries(sql, count: count, now: now) }
    }

    /// The upload lease alone (`DeliveryLeases.claim`), as the shared ledger claims: what `claimDelivery`'s
    /// gates will wrap once they move onto `LedgerSQL`. The bench sets it beside PostgreSQL's.
    package func claimUploadLease(owner: String, lease: Double) throws -> LeasedDelivery? {
        let now = self.now
        return try writeSQL { sql, _ in try DeliveryLeases.claim(sql, owner: owner, lease: lease, now: now) }
    }
}

extension PostgresLedger {
    /// `count` deliveries ready to upload (`LedgerFixtures`), for the bench.
    package func plantReadyDeliveries(count: Int) throws {
        let now = self.now
        try write { tx in try LedgerFixtures.readyDeliveries(tx, count: count, now: now) }
    }
}
