import Foundation
import OmniPostCore

/// Where an account's browser session keeps its cookies between runs (the ledger, sealed, in the
/// pipeline — the same jar `accounts import-cookies` fills).
package protocol CookieStore: Sendable {
    func load(account: String) async throws -> CookieJar?
    func save(account: String, jar: CookieJar) async throws
}

/// Spaces one account's browser posts across the hosts sharing a ledger (issue 27): the gate's own
/// pacing is this process's memory, which another host does not share.
package protocol AccountPacer: Sendable {
    /// Waits until no host is posting `account` or inside the gap after its last post (at least `minGap`
    /// after the account's last attempt ended, should the host that made it have died inside its gap);
    /// gives back what ends this post, starting its gap — called once, however the post ended.
    func begin(account: String, minGap: Duration) async throws -> @Sendable (_ gap: Duration) -> Void
}

/// What a driven-browser adapter needs besides the shared settings: where each account's profile
/// folder is, where a failure's screenshot and page go (beside the failure report), the cookie store,
/// Chromium's path, and the gate that runs one browser at a time and paces each account.
package struct BrowserSettings: Sendable {
    /// One folder per account below it (`<state>/browser/<platform>-<name>`).
    package var profiles: URL
    /// Where a failure's `<drop>.<target>.png` and `.html` are written (the outbox's failed/ folder).
    package var evidence: URL?
    package var cookies: (any CookieStore)?
    package var executable: String
    package var gate: BrowserGate
    package var timeouts = BrowserSession.Timeouts()
    /// The pacing shared with other hosts (a pipeline's ledger); nil: the gate's alone.
    package var pacer: (any AccountPacer)?

    package init(
        profiles: URL, evidence: URL? = nil, cookies: (any CookieStore)? = nil, executable: String = ChromiumProcess.defaultExecutable,
        gate: BrowserGate = .shared
    ) {
        self.profiles = profiles
        self.evidence = evidence
        self.cookies = cookies
        self.executable = executable
        self.gate = gate
    }

    /// The account's own profile folder.
    package func profile(for account: String) -> URL {
        profiles.appendingPathComponent(account.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? String($0) : "-" }.joined())
    }

    /// Sandbox mode's made-up session for `account` (its `sandbox_session`, as the sandbox was told it),
    /// as a jar for the account's endpoint; nil outside sandbox mode.
    package static func sandboxSeed(_ account: AccountConfig) -> CookieJar? {
        guard let value = try? account.text("sandbox_session"), let host = URL(string: account.endpoint)?.host else { return nil }
        // The replica's own cookie name (`RecipePlatform.sessionCookie`, which sandbox mode writes down).
        let name = ((try? account.text("sandbox_cookie")) ?? nil) ?? "web_session"
        return CookieJar(cookies: [.init(domain: host, path: "/", name: name, value: value, secure: false, httpOnly: true, expires: nil)])
    }

    /// Without a pipeline (tools, tests that do not set one): profiles in the temporary folder.
    package static var standalone: BrowserSettings {
        BrowserSettings(profiles: FileManager.default.temporaryDirectory.appendingPathComponent("omnipost-browser"))
    }
}
