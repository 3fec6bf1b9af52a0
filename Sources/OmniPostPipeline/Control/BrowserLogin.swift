import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// `omnipost accounts add` for a platform driven through its pages: its login page opens in headless
/// Chromium (on the account's own profile), its QR code is read from the page and drawn in the
/// terminal for the phone app to scan, and once the page turns logged in (waited for at most
/// `timeout`) the browser's cookies are sealed in the ledger — the jar every post then starts from.
package enum BrowserLogin {
    /// Whether `account` signs in through its platform's pages (a recipe, no OAuth).
    package static func applies(to account: AccountConfig) -> Bool {
        PlatformRegistry.drivesBrowser(account) && (try? RecipeCatalog.recipe(for: account)) != nil
    }

    /// `ledger`: the daemon's own (the dashboard's login); `nil` opens the pipeline's (the CLI).
    /// `shown` gets the QR code's modules as soon as the page shows it (the dashboard draws them).
    package static func connect(
        config: PipelineConfig, account: AccountConfig, ledger: Ledger? = nil, timeout: Duration,
        shown: (@Sendable ([[Bool]]) async -> Void)? = nil, say: @escaping @Sendable (String) -> Void
    ) async throws -> Int {
        let recipe = try RecipeCatalog.recipe(for: account)
        let name = PlatformRegistry.descriptor(account.platform)?.displayName ?? account.platform
        try config.paths.createAll()
        let ledger = try ledger ?? Ledger.open(config)
        let browser = BrowserSettings.pipeline(config, ledger: ledger)
        let key = account.key
        let (cookies, _) = try await BrowserSession.with(profile: browser.profile(for: key), executable: browser.executable) { s in
            let runner = RecipeRunner(recipe: recipe, page: s.page, base: recipe.base(for: account))
            let qr: [[Bool]]
            do { qr = try await runner.loginQR() } catch let f as RecipeFailure { throw OmniError(.recipeBroken, f.message) }
            await shown?(qr)
            say("\(key): scan this QR code with the \(name) app (waiting up to \(Int(timeout.seconds)) s):\n" + TerminalQR.render(qr))
            guard try await runner.awaitLogin(within: timeout) else {
                throw OmniError(.authRevoked, "\(key): the page did not turn logged in within \(Int(timeout.seconds)) s; nothing was stored — run `accounts add` again")
            }
            return try await s.page.cookies()
        }
        guard !cookies.isEmpty, let store = browser.cookies else {
            throw OmniError(.authRevoked, "\(key): the login gave no cookies; nothing was stored")
        }
        try await store.save(account: key, jar: CookieJar(cookies: cookies))
        return cookies.count
    }
}
