import Foundation
import OmniPostLedger
import OmniPostPlatforms

/// Keeps OAuth tokens in the ledger, so a rotated refresh token survives restarts.
struct LedgerTokenStore: TokenStore {
    let ledger: Ledger

    func load(account: String) async throws -> (accessToken: String?, expiresAt: Date?, refreshToken: String?) {
        guard let t = try ledger.token(account: account) else { return (nil, nil, nil) }
        return (t.accessToken, t.expiresAt.map { Date(timeIntervalSince1970: $0) }, t.refreshToken)
    }

    func save(account: String, accessToken: String, expiresAt: Date, refreshToken: String?) async throws {
        try ledger.storeToken(account: account, accessToken: accessToken, expiresAt: expiresAt.timeIntervalSince1970, refreshToken: refreshToken)
    }
}
