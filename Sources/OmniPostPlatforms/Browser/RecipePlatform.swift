import Foundation
import OmniPostCore

/// A platform published by driving its creator pages (Xiaohongshu, WeChat Channels): its descriptor is
/// its own data, and everything else is the recipe's — the adapter runs it, `accounts check` opens the
/// page and finds its anchors, a `recipe:` override is checked where it is named, and in sandbox mode the
/// account signs in to the replica with a made-up session cookie (as sandbox mode's made-up refresh
/// tokens do elsewhere): the pipeline's cookie store starts from it while the ledger holds no jar.
package protocol RecipePlatform: PlatformModule {
    /// Where the sandbox serves the replica (`/sandbox/<name>`).
    static var replicaPath: String { get }
    /// The replica's session cookie (the platform's own name for it).
    static var sessionCookie: String { get }
}

extension RecipePlatform {
    package static var replicaPath: String { "/sandbox/" + descriptor.name }

    package static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter { RecipeAdapter(settings) }

    /// Logged in, and the page still has the recipe's anchors (`accounts check`, the daemon's checks).
    package static func whoAmI(_ settings: AdapterSettings) async throws -> AccountIdentity? { try await RecipeAdapter(settings).health() }

    package static func validate(_ account: AccountConfig, sandboxed: Bool) throws { try BrowserFallback.validate(account) }

    package static func useSandbox(_ account: inout AccountConfig, base: String, root: URL) -> [SandboxGrant] {
        BrowserFallback.useSandbox(&account, base: base, path: replicaPath, cookie: sessionCookie)
    }
}
