import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// `omnipost accounts check`: for each account that signs in, a refresh made now (not a cached
/// token) and the cheapest call that proves it — who the account is. What cannot publish says why.
public enum AccountHealth {
    public struct Result: Sendable, Codable, Equatable {
        public var account: String
        public var ok: Bool
        public var identity: String?
        public var accessExpiresAt: Double?
        public var hasRefreshToken: Bool
        public var error: String?
    }

    public static func check(config: PipelineConfig, only: [String] = [], http: HTTPClient) async throws -> [Result] {
        let ledger = try Ledger(path: config.paths.ledger.path)
        let store = LedgerTokenStore(ledger: ledger, keys: KeyRing(config: config))
        var out: [Result] = []
        for key in config.accounts.keys.sorted() where only.isEmpty || only.contains(key) {
            let account = config.accounts[key]!
            guard let module = PlatformRegistry.module(account.platform), module.descriptor.oauth != nil else { continue }
            let tokens = TokenProvider(account: account, http: http, store: store)
            var r = Result(account: key, ok: false, hasRefreshToken: false)
            do {
                r.hasRefreshToken = try await store.load(account: key).refreshToken != nil || !account.refreshToken.isEmpty
                await tokens.invalidate()
                _ = try await tokens.accessToken()
                r.accessExpiresAt = try await store.load(account: key).expiresAt?.timeIntervalSince1970
                let settings = AdapterSettings(account: account, tokens: tokens, http: http, chunkSize: 1 << 20)
                if let who = try await module.whoAmI(settings) { r.identity = "\(who.name) (\(who.id))" }
                r.ok = true
            } catch let e as DeliveryError {
                r.error = "\(e.code): \(e.message)"
            } catch let e as OmniError {
                r.error = "\(e.code): \(e.message)"
            } catch {
                r.error = "\(error)"
            }
            out.append(r)
        }
        for key in only where config.accounts[key] == nil {
            out.append(Result(account: key, ok: false, hasRefreshToken: false, error: "no such account in \(config.name)"))
        }
        return out
    }
}
