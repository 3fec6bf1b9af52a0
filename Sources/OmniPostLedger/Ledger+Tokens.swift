import Foundation
import GRDB

extension Ledger {
    public struct StoredToken: Sendable {
        public var accessToken: String?
        public var expiresAt: Double?
        public var refreshToken: String?
    }

    public func token(account: String) throws -> StoredToken? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE account = ?", arguments: [account]) else { return nil }
            return StoredToken(accessToken: row["access_token"], expiresAt: row["expires_at"], refreshToken: row["refresh_token"])
        }
    }

    /// Stores a token the moment it arrives; a rotated refresh token must never be lost.
    public func storeToken(account: String, accessToken: String, expiresAt: Double, refreshToken: String?) throws {
        try write { db, _ in
            try db.execute(sql: """
                INSERT INTO tokens(account, access_token, expires_at, refresh_token, updated_at) VALUES (?,?,?,?,?)
                ON CONFLICT(account) DO UPDATE SET access_token = excluded.access_token, expires_at = excluded.expires_at,
                  refresh_token = COALESCE(excluded.refresh_token, tokens.refresh_token), updated_at = excluded.updated_at
                """, arguments: [account, accessToken, expiresAt, refreshToken, self.now])
        }
    }
}
