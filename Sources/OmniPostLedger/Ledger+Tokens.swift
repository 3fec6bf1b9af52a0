import Foundation
import GRDB

extension Ledger {
    package struct StoredToken: Sendable {
        package var accessToken: String?
        package var expiresAt: Double?
        package var refreshToken: String?
    }

    package func token(account: String) throws -> StoredToken? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE account = ?", arguments: [account]) else { return nil }
            return StoredToken(accessToken: row["access_token"], expiresAt: row["expires_at"], refreshToken: row["refresh_token"])
        }
    }

    /// Stores a token the moment it arrives; a rotated refresh token must never be lost.
    package func storeToken(account: String, accessToken: String, expiresAt: Double, refreshToken: String?) throws {
        try write { db, _ in
            try db.execute(
                sql: """
                    INSERT INTO tokens(account, access_token, expires_at, refresh_token, updated_at) VALUES (?,?,?,?,?)
                    ON CONFLICT(account) DO UPDATE SET access_token = excluded.access_token, expires_at = excluded.expires_at,
                      refresh_token = COALESCE(excluded.refresh_token, tokens.refresh_token), updated_at = excluded.updated_at
                    """, arguments: [account, accessToken, expiresAt, refreshToken, self.now])
        }
    }
}

extension Ledger {
    /// Seeds an account's refresh token from the pipeline file. When the configured token is the one seen
    /// before, the stored (possibly rotated) token stays; when it changed (the user authorized again),
    /// the new one replaces whatever is stored. Returns true when it replaced.
    @discardableResult
    package func seedToken(account: String, seedHash: String, refreshToken: String) throws -> Bool {
        try write { db, _ in
            let current = try String.fetchOne(db, sql: "SELECT seed_hash FROM tokens WHERE account = ?", arguments: [account])
            let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM tokens WHERE account = ?", arguments: [account]) ?? false
            if exists && current == seedHash { return false }
            if exists && current == nil {
                // A row from before fingerprints: keep its (rotated) token, remember the seed.
                try db.execute(sql: "UPDATE tokens SET seed_hash = ? WHERE account = ?", arguments: [seedHash, account])
                return false
            }
            try db.execute(
                sql: """
                    INSERT INTO tokens(account, access_token, expires_at, refresh_token, seed_hash, updated_at) VALUES (?, NULL, NULL, ?, ?, ?)
                    ON CONFLICT(account) DO UPDATE SET access_token = NULL, expires_at = NULL, refresh_token = excluded.refresh_token,
                      seed_hash = excluded.seed_hash, updated_at = excluded.updated_at
                    """, arguments: [account, refreshToken, seedHash, self.now])
            return true
        }
    }

    /// Replaces an account's refresh token (`omnipost accounts set-token`): the access token is dropped.
    package func replaceRefreshToken(account: String, refreshToken: String) throws {
        try write { db, _ in
            try db.execute(
                sql: """
                    INSERT INTO tokens(account, access_token, expires_at, refresh_token, updated_at) VALUES (?, NULL, NULL, ?, ?)
                    ON CONFLICT(account) DO UPDATE SET access_token = NULL, expires_at = NULL, refresh_token = excluded.refresh_token,
                      updated_at = excluded.updated_at
                    """, arguments: [account, refreshToken, self.now])
        }
    }

    /// Re-seals every stored credential in one transaction (`accounts rekey`): `transform` opens a value
    /// and seals it again. Returns how many values were re-sealed.
    package func resealAll(_ transform: @escaping @Sendable (String) throws -> String) throws -> Int {
        try write { db, _ in
            var n = 0
            for row in try Row.fetchAll(db, sql: "SELECT account, jar FROM cookie_jars") {
                let account: String = row["account"]
                try db.execute(sql: "UPDATE cookie_jars SET jar = ? WHERE account = ?", arguments: [try transform(row["jar"]), account])
                n += 1
            }
            for row in try Row.fetchAll(db, sql: "SELECT account, access_token, refresh_token FROM tokens") {
                let account: String = row["account"]
                let access: String? = row["access_token"], refresh: String? = row["refresh_token"]
                let a = try access.map(transform), r = try refresh.map(transform)
                n += (a == nil ? 0 : 1) + (r == nil ? 0 : 1)
                try db.execute(sql: "UPDATE tokens SET access_token = ?, refresh_token = ? WHERE account = ?", arguments: [a, r, account])
            }
            return n
        }
    }

    /// Every stored credential, sealed as it is (to check what key sealed it).
    package func storedSecrets() throws -> [String] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT access_token, refresh_token FROM tokens").flatMap { r -> [String] in
                [r["access_token"] as String?, r["refresh_token"] as String?].compactMap { $0 }
            }
        }
    }

    package struct CookieJarSummary: Sendable, Codable, Equatable {
        package var account: String
        package var cookies: Int
        package var domains: String
        package var expiresAt: Double?
        package var importedAt: Double
    }

    /// Stores an account's cookies (`sealed` already), replacing any it had.
    package func storeCookieJar(account: String, sealed: String, cookies: Int, domains: String, expiresAt: Double?) throws {
        try write { db, _ in
            try db.execute(
                sql: """
                    INSERT INTO cookie_jars(account, jar, cookies, domains, expires_at, imported_at) VALUES (?,?,?,?,?,?)
                    ON CONFLICT(account) DO UPDATE SET jar = excluded.jar, cookies = excluded.cookies, domains = excluded.domains,
                      expires_at = excluded.expires_at, imported_at = excluded.imported_at
                    """, arguments: [account, sealed, cookies, domains, expiresAt, self.now])
        }
    }

    /// An account's sealed cookie jar, as stored.
    package func cookieJar(account: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT jar FROM cookie_jars WHERE account = ?", arguments: [account]) }
    }

    /// What is stored per account, without a cookie's value.
    package func cookieJars() throws -> [CookieJarSummary] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT account, cookies, domains, expires_at, imported_at FROM cookie_jars ORDER BY account").map {
                CookieJarSummary(account: $0["account"], cookies: $0["cookies"], domains: $0["domains"], expiresAt: $0["expires_at"], importedAt: $0["imported_at"])
            }
        }
    }

    /// Forgets an account's stored credentials (`omnipost accounts remove`). True when there were any.
    @discardableResult
    package func removeToken(account: String) throws -> Bool {
        try write { db, _ in
            try db.execute(sql: "DELETE FROM tokens WHERE account = ?", arguments: [account])
            var n = db.changesCount
            try db.execute(sql: "DELETE FROM cookie_jars WHERE account = ?", arguments: [account])
            n += db.changesCount
            return n > 0
        }
    }

    package struct TokenSummary: Sendable, Codable {
        package var account: String
        package var hasRefreshToken: Bool
        package var accessExpiresAt: Double?
        package var updatedAt: Double
        package var sealed: Bool
        /// When the refresh token itself lapses, where the platform says.
        package var refreshExpiresAt: Double? = nil
        /// The last check (a refresh and who the account is): when, whether it worked, and what it said.
        package var checkedAt: Double? = nil
        package var checkOK: Bool? = nil
        package var checkDetail: String? = nil
        package var scope: String? = nil
    }

    /// Notes the scopes a grant or refresh named.
    package func recordScope(account: String, scope: String) throws {
        try write { db, _ in try db.execute(sql: "UPDATE tokens SET scope = ? WHERE account = ?", arguments: [scope, account]) }
    }

    /// Notes when an account's refresh token lapses (from the token endpoint's answer).
    package func recordRefreshExpiry(account: String, at: Double) throws {
        try write { db, _ in
            try db.execute(sql: "UPDATE tokens SET refresh_expires_at = ? WHERE account = ?", arguments: [at, account])
        }
    }

    /// Notes an account check's outcome (`accounts check`, the daemon's own checks).
    package func recordAccountCheck(account: String, ok: Bool, detail: String) throws {
        try write { db, _ in
            try db.execute(
                sql: """
                    INSERT INTO tokens(account, access_token, expires_at, refresh_token, updated_at, checked_at, check_ok, check_detail)
                    VALUES (?, NULL, NULL, NULL, ?, ?, ?, ?)
                    ON CONFLICT(account) DO UPDATE SET checked_at = excluded.checked_at, check_ok = excluded.check_ok, check_detail = excluded.check_detail
                    """, arguments: [account, self.now, self.now, ok, detail])
        }
    }

    /// What is stored per account, without any secret.
    package func tokenSummaries() throws -> [TokenSummary] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tokens ORDER BY account").map { r in
                let refresh: String? = r["refresh_token"]
                let access: String? = r["access_token"]
                return TokenSummary(
                    account: r["account"], hasRefreshToken: refresh?.isEmpty == false, accessExpiresAt: r["expires_at"],
                    updatedAt: r["updated_at"], sealed: (refresh ?? access ?? "").hasPrefix("sealed:v1:"),
                    refreshExpiresAt: r["refresh_expires_at"], checkedAt: r["checked_at"], checkOK: r["check_ok"], checkDetail: r["check_detail"], scope: r["scope"])
            }
        }
    }
}
