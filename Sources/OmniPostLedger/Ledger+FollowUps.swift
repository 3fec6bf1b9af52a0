import Foundation
import GRDB

extension Ledger {
    package func followUp(deliveryId: Int64, key: String) throws -> FollowUpRecord? {
        try read { db in
            try FollowUpRecord.fetchOne(db, sql: "SELECT * FROM follow_ups WHERE delivery_id = ? AND key = ?", arguments: [deliveryId, key])
        }
    }

    package func followUps(deliveryId: Int64) throws -> [FollowUpRecord] {
        try read { db in try FollowUpRecord.fetchAll(db, sql: "SELECT * FROM follow_ups WHERE delivery_id = ? ORDER BY key", arguments: [deliveryId]) }
    }

    /// The follow-ups of several deliveries at once, by delivery (the result JSON, the dashboard).
    package func followUps(deliveryIds: [Int64]) throws -> [Int64: [FollowUpRecord]] {
        guard !deliveryIds.isEmpty else { return [:] }
        return try read { db in
            let rows = try FollowUpRecord.fetchAll(
                db, sql: "SELECT * FROM follow_ups WHERE delivery_id IN (\(deliveryIds.map { _ in "?" }.joined(separator: ","))) ORDER BY key",
                arguments: StatementArguments(deliveryIds))
            return Dictionary(grouping: rows, by: \.deliveryId)
        }
    }

    /// Follow-ups asked for whose answer is not kept yet: each is settled by reading the platform back.
    package func pendingFollowUpCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM follow_ups WHERE state = 'intended'") ?? 0 }
    }

    /// Keeps where a follow-up stands: `intended` before its request leaves, then `made` or `failed`.
    package func recordFollowUp(deliveryId: Int64, key: String, kind: String, state: FollowUpRecord.State, remoteId: String? = nil, detail: String? = nil) throws {
        try write { db, _ in
            try db.execute(
                sql: """
                    INSERT INTO follow_ups (delivery_id, key, kind, state, remote_id, detail, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (delivery_id, key) DO UPDATE SET state = excluded.state, remote_id = excluded.remote_id,
                      detail = excluded.detail, updated_at = excluded.updated_at
                    """, arguments: [deliveryId, key, kind, state.rawValue, remoteId, detail, self.now])
        }
    }
}
