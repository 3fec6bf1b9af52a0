import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// One class of failure, one reason code: a connection refused or a host that does not resolve is
/// `network_error` wherever it happens, never `internal_error`.
@Suite struct NetworkErrorTests {
    /// A connection refused or a host that does not resolve — at a token endpoint, for a CLI check — is
    /// `network_error`, whatever the platform.
    @Test(.timeLimit(.minutes(1))) func anUnreachableTokenEndpointIsANetworkError() async throws {
        let dir = try TempDir()
        // A port nothing listens on, held for the test so no other test's server can take it.
        let held = try DeadPort()
        defer { withExtendedLifetime(held) {} }
        let dead = held.port
        for (platform, tokenURL) in [
            ("tiktok", "http://127.0.0.1:\(dead)/v2/oauth/token/"), ("youtube", "http://no-such-host.invalid/token"), ("x", "http://127.0.0.1:\(dead)/2/oauth2/token")
        ] {
            let account = AccountConfig(
                key: "\(platform):main", platform: platform, clientID: "c", clientSecret: "s", refreshToken: "r",
                endpoint: "http://127.0.0.1:\(dead)", tokenURL: tokenURL)
            let tokens = TokenProvider(account: account, http: HTTPClient.shared, store: MemoryTokenStore(), timeout: .seconds(3))
            let e = await #expect(throws: DeliveryError.self) { _ = try await tokens.accessToken() }
            #expect(e?.code == .networkError && e?.kind == .retryNow && e?.message.contains(tokenURL) == true, "\(platform): \(String(describing: e))")
        }
        // The same as `accounts check` says it, and notes it, for a pipeline on hosts it cannot reach.
        let text =
            "version: 1\nroot: \(dir.url.path)/p\ntargets: [tiktok:main]\naccounts:\n  tiktok:main: {client_id: c, client_secret: s, refresh_token: r, token_url: \"http://127.0.0.1:\(dead)/v2/oauth/token/\"}\n"
        let config = try PlatformRegistry.parse(text: text, file: "p.yaml", baseDirectory: dir.url)
        try config.paths.createAll()
        let ledger = try Ledger(path: config.paths.ledger.path)
        let account = try #require(config.accounts["tiktok:main"])
        let r = await AccountHealth.checkOne(
            account, tokens: TokenProvider(account: account, http: HTTPClient.shared, store: MemoryTokenStore(), timeout: .seconds(3)),
            http: HTTPClient.shared, ledger: ledger)
        #expect(r?.ok == false && r?.error?.hasPrefix("network_error") == true, "\(String(describing: r))")
        // Unwrapped connection errors are the network's too.
        #expect(NetworkFailure.isNetwork(HTTPClientError.connectTimeout) && !NetworkFailure.isNetwork(CancellationError()))
    }
}
