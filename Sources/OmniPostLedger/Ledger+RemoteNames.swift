import Foundation

extension Ledger {
    /// The remote id `name` resolved to for this account (a playlist's id), if it was resolved before.
    package func remoteName(account: String, kind: String, name: String) throws -> String? {
        try readSQL { sql in
            try sql.row("SELECT remote_id FROM remote_names WHERE account = ? AND kind = ? AND name = ?", [.text(account), .text(kind), .text(name)])?
                .text("remote_id")
        }
    }

    /// Keeps what `name` resolved to, replacing an earlier answer.
    package func rememberRemoteName(account: String, kind: String, name: String, remoteId: String) throws {
        try writeSQL { sql, _ in
            try sql.run(
                """
                INSERT INTO remote_names (account, kind, name, remote_id, resolved_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (account, kind, name) DO UPDATE SET remote_id = excluded.remote_id, resolved_at = excluded.resolved_at
                """, account, kind, name, remoteId, self.now)
        }
    }

    /// Forgets what `name` resolved to (the platform no longer has it), so the next use resolves it again.
    package func forgetRemoteName(account: String, kind: String, name: String) throws {
        try writeSQL { sql, _ in
            try sql.run("DELETE FROM remote_names WHERE account = ? AND kind = ? AND name = ?", account, kind, name)
        }
    }
}
