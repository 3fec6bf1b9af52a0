import Foundation

extension Ledger {
    package func followUp(deliveryId: Int64, key: String) throws -> FollowUpRecord? {
        try readSQL { sql in
            try sql.fetchOne(FollowUpRecord.self, "SELECT * FROM follow_ups WHERE delivery_id = ? AND key = ?", [.integer(deliveryId), .text(key)])
        }
    }

    package func followUps(deliveryId: Int64) throws -> [FollowUpRecord] {
        try readSQL { sql in try sql.fetchAll(FollowUpRecord.self, "SELECT * FROM follow_ups WHERE delivery_id = ? ORDER BY key", [.integer(deliveryId)]) }
    }

    /// The follow-ups of several deliveries at once, by delivery (the result JSON, the dashboard).
    package func followUps(deliveryIds: [Int64]) throws -> [Int64: [FollowUpRecord]] {
        guard !deliveryIds.isEmpty else { return [:] }
        return try readSQL { sql in try Self.followUps(deliveryIds: deliveryIds, sql) }
    }

    static func followUps(deliveryIds: [Int64], _ sql: any LedgerSQL) throws -> [Int64: [FollowUpRecord]] {
        guard !deliveryIds.isEmpty else { return [:] }
        let rows = try sql.fetchAll(
            FollowUpRecord.self, "SELECT * FROM follow_ups WHERE delivery_id IN (\(sqlMarks(deliveryIds.count))) ORDER BY key",
            deliveryIds.map(\.sqlValue))
        return Dictionary(grouping: rows, by: \.deliveryId)
    }

    /// Follow-ups asked for whose answer is not kept yet: each is settled by reading the platform back.
    package func pendingFollowUpCount() throws -> Int {
        try readSQL { sql in Int(try sql.int("SELECT COUNT(*) AS n FROM follow_ups WHERE state = 'intended'") ?? 0) }
    }

    /// Keeps where a follow-up stands: `intended` before its request leaves, then `made` or `failed`.
    package func recordFollowUp(deliveryId: Int64, key: String, kind: String, state: FollowUpRecord.State, remoteId: String? = nil, detail: String? = nil) throws {
        // An intent comes before the request that makes the follow-up: a restart that finds it reads the
        // platform back instead of making it again, so it outlives a power cut (`writeSQL(durable:)`).
        try writeSQL(durable: state == .intended) { sql, _ in
            try sql.run(
                """
                INSERT INTO follow_ups (delivery_id, key, kind, state, remote_id, detail, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (delivery_id, key) DO UPDATE SET state = excluded.state, remote_id = excluded.remote_id,
                  detail = excluded.detail, updated_at = excluded.updated_at
                """, deliveryId, key, kind, state.rawValue, remoteId, detail, self.now)
        }
    }
}
