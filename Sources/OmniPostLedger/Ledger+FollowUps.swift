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
