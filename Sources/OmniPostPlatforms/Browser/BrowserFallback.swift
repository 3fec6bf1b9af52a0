import Foundation
import OmniPostCore

/// An API platform's browser path (Douyin's creator.douyin.com, Kuaishou's cp.kuaishou.com): an account
/// that says `via: browser` under `accounts:` posts through the platform's recipe, as Xiaohongshu's
/// accounts do, instead of the API — logging in by QR code, its cookies sealed, its health the page's
/// anchors. Every other account of the platform keeps the API. The platform's module asks here.
package enum BrowserFallback {
    /// The account keys a platform with a browser path takes besides its API's.
    package static let settings = ["via", "recipe", "min_gap", "jitter"]

    /// Whether this account posts through the creator page.
    package static func chosen(_ account: AccountConfig) -> Bool { ((try? account.text("via")) ?? nil) == "browser" }

    /// `via:` says `browser` or `api`; a recipe override and the pacing read as they do for a browser platform.
    package static func validate(_ account: AccountConfig) throws {
        if let n = account.setting("via"), !["browser", "api"].contains(try n.string()) {
            throw n.fail(.invalidValue, "via is `api` (the default) or `browser` (the creator page, driven in headless Chromium)")
        }
        if let n = account.setting("recipe") {
            let path = try n.string()
            do { _ = try Recipe.load(path: path) } catch let e as OmniError { throw OmniError(e.code, e.message, at: e.location ?? n.location) }
        }
        _ = try account.setting("min_gap")?.duration()
        _ = try account.setting("jitter")?.duration()
    }

    /// Sandbox mode: the replica at `path` and a made-up session cookie named `cookie` to sign in there.
    package static func useSandbox(_ account: inout AccountConfig, base: String, path: String, cookie: String) -> [SandboxGrant] {
        account.endpoint = base + path
        account.fillIn("sandbox_session", "sandbox-session-\(account.name)")
        account.fillIn("sandbox_cookie", cookie)
        return [.settings(["sandbox_session"], of: account)]
    }
}

extension PlatformRegistry {
    /// Whether this account is published by driving a browser: its platform's only way (Xiaohongshu,
    /// WeChat Channels) or the one it chose (`via: browser`).
    package static func drivesBrowser(_ account: AccountConfig) -> Bool {
        (descriptor(account.platform)?.drivenBrowser ?? false) || BrowserFallback.chosen(account)
    }
}

extension Recipe {
    /// The address `{base}` stands for: the account's endpoint — or, where that is still the platform's
    /// API (a browser fallback's account that names none), the recipe's `site:`.
    package func base(for account: AccountConfig) -> String {
        if let site, account.endpoint.isEmpty || account.endpoint == PlatformRegistry.descriptor(account.platform)?.apiRoot { return site }
        return account.endpoint
    }
}
