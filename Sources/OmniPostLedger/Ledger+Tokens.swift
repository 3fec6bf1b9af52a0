import Foundation

extension Ledger {
    package struct StoredToken: Sendable {
        package var accessToken: String?
        package var expiresAt: Double?
        package var refreshToken: String?
    }

    package func token(account: String) throws -> StoredToken? {
        try readSQL { sql in
            guard let row = try sql.row("SELECT * FROM tokens WHERE account = ?", [.text(account)]) else { return nil }
            return StoredToken(accessToken: row.text("access_token"), expiresAt: row.double("expires_at"), refreshToken: row.text("refresh_token"))
        }
    }

    /// Stores a token the moment it arrives; a rotated refresh token must never be lost.
    package func storeToken(account: String, accessToken: String, expiresAt: Double, refreshToken: String?) throws {
        try writeSQL { sql, _ in
            try sql.run(
                """
                INSERT INTO tokens(account, access_token, expires_at, refresh_token, updated_at) VALUES (?,?,?,?,?)
                ON CONFLICT(account) DO UPDATE SET access_token = excluded.access_token, expires_at = excluded.expires_at,
                  refresh_token = COALESCE(excluded.refresh_token, tokens.refresh_token), updated_at = excluded.updated_at
                """, account, accessToken, expiresAt, refreshToken, self.now)
        }
    }
}

extension Ledger {
    /// Seeds an account's refresh token from the pipeline file. When the configured token is the one seen
    /// before, the stored (possibly rotated) token stays; when it changed (the user authorized again),
    /// the new one replaces whatever is stored. Returns true when it replaced.
    @discardableResult
    package func seedToken(account: String, seedHash: String, refreshToken: String) throws -> Bool {
        try writeSQL { sql, _ in
            // Locked as it is read on the shared ledger: hosts starting together seed an account one at a time.
            let row = try sql.row("SELECT seed_hash FROM tokens WHERE account = ?" + sql.dialect.forUpdate, [.text(account)])
            let exists = row != nil
            let current = row?.text("seed_hash")
            if exists && current == seedHash { return false }
            if exists && current == nil {
                // A row from before fingerprints: keep its (rotated) token, remember the seed.
                try sql.run("UPDATE tokens SET seed_hash = ? WHERE account = ?", seedHash, account)
                return false
            }
            try sql.run(
                """
                INSERT INTO tokens(account, access_token, expires_at, refresh_token, seed_hash, updated_at) VALUES (?, NULL, NULL, ?, ?, ?)
                ON CONFLICT(account) DO UPDATE SET access_token = NULL, expires_at = NULL, refresh_token = excluded.refresh_token,
                  seed_hash = excluded.seed_hash, updated_at = excluded.updated_at
                """, account, refreshToken, seedHash, self.now)
            return true
        }
    }

    /// Replaces an account's refresh token (`omnipost accounts set-token`): the access token is dropped.
    package func replaceRefreshToken(account: String, refreshToken: String) throws {
        try writeSQL { sql, _ in
            try sql.run(
                """
                INSERT INTO tokens(account, access_token, expires_at, refresh_token, updated_at) VALUES (?, NULL, NULL, ?, ?)
                ON CONFLICT(account) DO UPDATE SET access_token = NULL, expires_at = NULL, refresh_token = excluded.refresh_token,
                  updated_at = excluded.updated_at
                """, account, refreshToken, self.now)
        }
    }

    /// Re-seals every stored credential in one transaction (`accounts rekey`): `transform` opens a value
    /// and seals it again. Returns how many values were re-sealed.
    package func resealAll(_ transform: @escaping @Sendable (String) throws -> String) throws -> Int {
        try writeSQL { sql, _ in
            var n = 0
            for row in try sql.rows("SELECT account, jar FROM cookie_jars ORDER BY account") {
                let account = row.text("account") ?? ""
                try sql.run("UPDATE cookie_jars SET jar = ? WHERE account = ?", try transform(row.text("jar") ?? ""), account)
                n += 1
            }
            for row in try sql.rows("SELECT account, access_token, refresh_token FROM tokens ORDER BY account") {
                let account = row.text("account") ?? ""
                let a = try row.text("access_token").map(transform), r = try row.text("refresh_token").map(transform)
                n += (a == nil ? 0 : 1) + (r == nil ? 0 : 1)
                try sql.run("UPDATE tokens SET access_token = ?, refresh_token = ? WHERE account = ?", a, r, account)
            }
            return n
        }
    }

    /// Every stored credential, sealed as it is (to check what key sealed it).
    package func storedSecrets() throws -> [String] {
        try readSQL { sql in
            try sql.rows("SELECT access_token, refresh_token FROM tokens ORDER BY account").flatMap { r -> [String] in
                [r.text("access_token"), r.text("refresh_token")].compactMap { $0 }
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
        try writeSQL { sql, _ in
            try sql.run(
                """
                INSERT INTO cookie_jars(account, jar, cookies, domains, expires_at, imported_at) VALUES (?,?,?,?,?,?)
                ON CONFLICT(account) DO UPDATE SET jar = excluded.jar, cookies = excluded.cookies, domains = excluded.domains,
                  expires_at = excluded.expires_at, imported_at = excluded.imported_at
                """, account, sealed, cookies, domains, expiresAt, self.now)
        }
    }

    /// An account's sealed cookie jar, as stored.
    package func cookieJar(account: String) throws -> String? {
        try readSQL { sql in try sql.row("SELECT jar FROM cookie_jars WHERE account = ?", [.text(account)])?.text("jar") }
    }

    /// What is stored per account, without a cookie's value.
    package func cookieJars() throws -> [CookieJarSummary] {
        try readSQL { sql in
            try sql.fetchAll(CookieJarSummary.self, "SELECT account, cookies, domains, expires_at, imported_at FROM cookie_jars ORDER BY account")
        }
    }

    /// Forgets an account's stored credentials (`omnipost accounts remove`). True when there were any.
    @discardableResult
    package func removeToken(account: String) throws -> Bool {
        try writeSQL { sql, _ in
            try sql.run("DELETE FROM tokens WHERE account = ?", account) + sql.run("DELETE FROM cookie_jars WHERE account = ?", account) > 0
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
        try writeSQL { sql, _ in try sql.run("UPDATE tokens SET scope = ? WHERE account = ?", scope, account) }
    }

    /// Notes when an account's refresh token lapses (from the token endpoint's answer).
    package func recordRefreshExpiry(account: String, at: Double) throws {
        try writeSQL { sql, _ in try sql.run("UPDATE tokens SET refresh_expires_at = ? WHERE account = ?", at, account) }
    }

    /// Notes an account check's outcome (`accounts check`, the daemon's own checks).
    package func recordAccountCheck(account: String, ok: Bool, detail: String) throws {
        try writeSQL { sql, _ in
            try sql.run(
                """
                INSERT INTO tokens(account, access_token, expires_at, refresh_token, updated_at, checked_at, check_ok, check_detail)
                VALUES (?, NULL, NULL, NULL, ?, ?, ?, ?)
                ON CONFLICT(account) DO UPDATE SET checked_at = excluded.checked_at, check_ok = excluded.check_ok, check_detail = excluded.check_detail
                """, account, self.now, self.now, ok ? 1 : 0, detail)
        }
    }

    /// What is stored per account, without any secret.
    package func tokenSummaries() throws -> [TokenSummary] {
        try readSQL { sql in
            try sql.rows("SELECT * FROM tokens ORDER BY account").map { r in
                let refresh = r.text("refresh_token")
                let access = r.text("access_token")
                return TokenSummary(
                    account: r.text("account") ?? "", hasRefreshToken: refresh?.isEmpty == false, accessExpiresAt: r.double("expires_at"),
                    updatedAt: r.double("updated_at") ?? 0, sealed: (refresh ?? access ?? "").hasPrefix("sealed:v1:"),
                    refreshExpiresAt: r.double("refresh_expires_at"), checkedAt: r.double("checked_at"), checkOK: r.int("check_ok").map { $0 != 0 },
                    checkDetail: r.text("check_detail"), scope: r.text("scope"))
            }
        }
    }
}
