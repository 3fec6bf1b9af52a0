import Foundation
import OmniPostCore

/// Xiaohongshu (小红书) has no public publishing API: its creator center
/// (creator.xiaohongshu.com) is driven in headless Chromium by the recipe `recipes/xiaohongshu.yaml`.
/// The account signs in by QR code (`accounts add`) or with imported cookies.
package enum XiaohongshuPlatform: PlatformModule {
    package static let descriptor: PlatformDescriptor = {
        var d = PlatformDescriptor(
            name: "xiaohongshu", displayName: "Xiaohongshu", apiRoot: "https://creator.xiaohongshu.com", oauth: nil, sandboxTokenPath: "",
            defaultProfile: "xiaohongshu",
            accountFields: ["(cookies: `accounts add` by QR code, or `accounts import-cookies`)", "recipe (an override file)", "min_gap", "jitter"],
            capabilities: .init(
                upload: "driven browser (headless Chromium over the DevTools protocol, recipe as data): the creator center's own upload; a cut upload starts again",
                nativeScheduling: false, covers: "image (where the page offers it)",
                reconcile: "the note manager's list read for a new note of the title; never published again", quotas: "pacing per account (min_gap + jitter)"))
        d.settings = ["recipe", "min_gap", "jitter"]
        d.drivenBrowser = true
        // The content list, read in one browser session for every note asked about.
        d.readBack = .reads(batch: 50, cost: 0)
        return d
    }()

    package static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter { RecipeAdapter(settings) }

    /// Logged in, and the page still has the recipe's anchors (`accounts check`, the daemon's checks).
    package static func whoAmI(_ settings: AdapterSettings) async throws -> AccountIdentity? { try await RecipeAdapter(settings).health() }

    package static func validate(_ account: AccountConfig, sandboxed: Bool) throws {
        if let n = account.setting("recipe") {
            let path = try n.string()
            do { _ = try Recipe.load(path: path) } catch let e as OmniError { throw OmniError(e.code, e.message, at: e.location ?? n.location) }
        }
        _ = try account.setting("min_gap")?.duration()
        _ = try account.setting("jitter")?.duration()
    }

    /// The sandbox's replica of the creator center.
    /// A made-up session cookie signs in there (as sandbox mode's made-up refresh tokens do elsewhere):
    /// the pipeline's cookie store starts from it while the ledger holds no jar for the account.
    package static func useSandbox(_ account: inout AccountConfig, base: String, root: URL) -> [SandboxGrant] {
        account.endpoint = base + "/sandbox/xiaohongshu"
        account.fillIn("sandbox_session", "sandbox-session-\(account.name)")
        return [.settings(["sandbox_session"], of: account)]
    }
}
