import Foundation
import GRDB

extension Ledger {
    /// The remote id `name` resolved to for this account (a playlist's id), if it was resolved before.
    package func remoteName(account: String, kind: String, name: String) throws -> String? {
        try read { db in
            try String.fetchOne(
                db, sql: "SELECT remote_id FROM remote_names WHERE account = ? AND kind = ? AND name = ?", arguments: [account, kind, name])
        }
    }

    /// Keeps what `name` resolved to, replacing an earlier answer.
    package func rememberRemoteName(account: String, kind: String, name: String, remoteId: String) throws {
        try write { db, _ in
            try db.execute(
                sql: """
                    INSERT INTO remote_names (account, kind, name, remote_id, resolved_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (account, kind, name) DO UPDATE SET remote_id = excluded.remote_id, resolved_at = excluded.resolved_at
                    """, arguments: [account, kind, name, remoteId, self.now])
        }
    }

    /// Forgets what `name` resolved to (the platform no longer has it), so the next use resolves it again.
    package func forgetRemoteName(account: String, kind: String, name: String) throws {
        try write { db, _ in
            try db.execute(sql: "DELETE FROM remote_names WHERE account = ? AND kind = ? AND name = ?", arguments: [account, kind, name])
        }
    }
}
