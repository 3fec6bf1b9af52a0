import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// Keeps a browser-driven account's cookies in the ledger, sealed like its tokens — the jar
/// `accounts import-cookies` and `accounts add` (QR login) fill, which each browser session renews.
/// In sandbox mode an account starts from its made-up session cookie until a jar is stored.
struct LedgerCookieStore: CookieStore {
    let ledger: Ledger
    let keys: KeyRing
    /// Sandbox mode's made-up session per account key (`sandbox_session`), used while no jar is stored.
    var seeds: [String: CookieJar] = [:]

    func load(account: String) async throws -> CookieJar? {
        guard let sealed = try ledger.cookieJar(account: account) else { return seeds[account] }
        return try JSONDecoder().decode(CookieJar.self, from: Data(try keys.current().open(sealed).utf8))
    }

    func save(account: String, jar: CookieJar) async throws {
        let json = String(decoding: try JSONEncoder().encode(jar), as: UTF8.self)
        try ledger.storeCookieJar(
            account: account, sealed: try keys.current().seal(json), cookies: jar.cookies.count,
            domains: jar.domains.joined(separator: ", "), expiresAt: jar.firstExpiry)
    }

    /// The store for a pipeline: its ledger and key, and the sandbox's made-up sessions.
    static func make(config: PipelineConfig, ledger: Ledger) -> LedgerCookieStore {
        var seeds: [String: CookieJar] = [:]
        for (key, a) in config.accounts { seeds[key] = BrowserSettings.sandboxSeed(a) }
        return LedgerCookieStore(ledger: ledger, keys: KeyRing(config: config), seeds: seeds)
    }
}

/// Each browser account's posts spaced across the hosts sharing the ledger (`Ledger.beginPacedPost`).
struct LedgerPacer: AccountPacer {
    let ledger: Ledger
    func begin(account: String, minGap: Duration) async throws -> @Sendable (Duration) -> Void {
        try await ledger.beginPacedPost(account: account, minGap: minGap)
    }
}

extension BrowserSettings {
    /// A pipeline's: profiles under its state folder, failure screenshots beside its failure reports,
    /// cookies in its ledger, each account's posts spaced across the hosts sharing it.
    static func pipeline(_ config: PipelineConfig, ledger: Ledger) -> BrowserSettings {
        var settings = BrowserSettings(
            profiles: config.paths.root.appendingPathComponent("browser"), evidence: config.paths.outboxFailed,
            cookies: LedgerCookieStore.make(config: config, ledger: ledger))
        settings.pacer = LedgerPacer(ledger: ledger)
        return settings
    }
}
