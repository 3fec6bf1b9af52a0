import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// Whether an account can publish: a refresh made now (not a cached token) and the cheapest call that
/// proves it — who the account is. `omnipost accounts check` runs it for every account; the daemon at
/// start and ahead of posts (`AccountWatch`). Each outcome is noted in the ledger for `status`.
package enum AccountHealth {
    package struct Result: Sendable, Codable, Equatable {
        package var account: String
        package var ok: Bool
        package var identity: String?
        package var accessExpiresAt: Double?
        package var refreshExpiresAt: Double?
        package var hasRefreshToken: Bool
        package var error: String?
        /// The scopes the last grant or refresh named, where the platform says.
        package var scopes: [String]? = nil
        /// What is left of the platform's own quota, where it can be read.
        package var quota: String? = nil
    }

    /// In sandbox mode the accounts are the sandbox's: checked there — the running daemon's sandbox, or
    /// one started from its kept state for the check — never against the real hosts, whose answer would
    /// then be noted in the ledger over the daemon's. `embedding` provides it (see `PlatformEmbedding`).
    package static func check(
        config: PipelineConfig, only: [String] = [], http: HTTPClient,
        embedding: (any PlatformEmbedding)? = nil
    ) async throws -> [Result] {
        var config = config
        let own = try await config.embedding(embedding)?.attach(&config, http: http)
        do {
            let out = try await checkAll(config: config, only: only, http: http)
            await own?.stop()
            return out
        } catch {
            await own?.stop()
            throw error
        }
    }

    static func checkAll(config: PipelineConfig, only: [String], http: HTTPClient) async throws -> [Result] {
        try config.paths.createAll()
        let ledger = try Ledger.open(config)
        let store = LedgerTokenStore(ledger: ledger, keys: KeyRing(config: config))
        var out: [Result] = []
        for key in config.accounts.keys.sorted() where only.isEmpty || only.contains(key) {
            let account = config.accounts[key]!
            let r = await checkOne(
                account, tokens: TokenProvider(account: account, http: http, store: store), http: http, ledger: ledger,
                browser: .pipeline(config, ledger: ledger))
            if let r { out.append(r) }
        }
        for key in only where config.accounts[key] == nil {
            out.append(Result(account: key, ok: false, hasRefreshToken: false, error: "no such account in \(config.name)"))
        }
        return out
    }

    /// One account, through `tokens` (the daemon passes the provider its adapters share). OAuth
    /// accounts: a refresh now, then who they are; others that sign in (Bluesky's app password): who
    /// they are. Nil for a destination, which has nothing to sign in with.
    /// `browser`: for a platform driven through its pages, the pipeline's browser settings (its cookies).
    package static func checkOne(
        _ account: AccountConfig, tokens: TokenProvider, http: HTTPClient, ledger: Ledger, browser: BrowserSettings? = nil
    ) async -> Result? {
        guard let module = PlatformRegistry.module(account.platform) else { return nil }
        // A token that lasts (Vimeo) has nothing to refresh: who it is proves it.
        let oauth = module.descriptor.oauth != nil && module.descriptor.oauth?.refreshStyle != .lasting && !PlatformRegistry.drivesBrowser(account)
        var r = Result(account: account.key, ok: false, hasRefreshToken: false)
        do {
            var settings = AdapterSettings(account: account, tokens: tokens, http: http, uploads: http, chunkSize: 1 << 20)
            settings.browser = browser
            if oauth {
                let stored = try ledger.token(account: account.key)
                r.hasRefreshToken = stored?.refreshToken != nil || !account.refreshToken.isEmpty
                await tokens.invalidate()
                _ = try await tokens.accessToken()
                let after = try ledger.tokenSummaries().first { $0.account == account.key }
                r.accessExpiresAt = after?.accessExpiresAt
                r.refreshExpiresAt = after?.refreshExpiresAt
            }
            guard let who = try await module.whoAmI(settings) else {
                if !oauth { return nil }
                r.ok = true
                try? ledger.recordAccountCheck(account: account.key, ok: true, detail: "token refreshed")
                return r
            }
            r.identity = "\(who.name) (\(who.id))"
            r.scopes = try ledger.tokenSummaries().first { $0.account == account.key }?.scope.map { $0.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init) }
            r.quota = try? await module.remainingQuota(settings)
            r.ok = true
        } catch let e as DeliveryError {
            r.error = "\(e.code): \(e.message)"
        } catch let e as OmniError {
            r.error = "\(e.code): \(e.message)"
        } catch {
            r.error = NetworkFailure.isNetwork(error) ? "\(ReasonCode.networkError): \(error)" : "\(ReasonCode.internalError): \(error)"
        }
        try? ledger.recordAccountCheck(account: account.key, ok: r.ok, detail: r.ok ? (r.identity ?? "token refreshed") : (r.error ?? "failed"))
        return r
    }
}
