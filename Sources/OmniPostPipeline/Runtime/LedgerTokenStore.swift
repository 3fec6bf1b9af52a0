import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// Keeps OAuth tokens in the ledger, sealed with AES-256-GCM, so a rotated refresh token survives
/// restarts and a copied ledger file gives nothing away without the key.
struct LedgerTokenStore: TokenStore {
    let ledger: Ledger
    let sealer: Sealer

    func load(account: String) async throws -> (accessToken: String?, expiresAt: Date?, refreshToken: String?) {
        guard let t = try ledger.token(account: account) else { return (nil, nil, nil) }
        return (try t.accessToken.map(sealer.open), t.expiresAt.map { Date(timeIntervalSince1970: $0) }, try t.refreshToken.map(sealer.open))
    }

    func save(account: String, accessToken: String, expiresAt: Date, refreshToken: String?) async throws {
        try ledger.storeToken(account: account, accessToken: try sealer.seal(accessToken), expiresAt: expiresAt.timeIntervalSince1970,
                              refreshToken: try refreshToken.map(sealer.seal))
    }
}
