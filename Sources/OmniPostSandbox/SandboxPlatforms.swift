import Hummingbird
import HummingbirdWebSocket
import OmniPostPlatforms

/// One platform's side of the sandbox: the routes that speak its documented protocol, what it remembers
/// (its `PlatformWorld`), and how an account's owner hands it credentials. Each platform's folder holds one type
/// conforming to this and names it from the registry's platform (`SandboxedPlatform`); nothing else in the
/// sandbox names a platform.
protocol SandboxPlatform: Sendable {
    /// The platform's name, as an account's `platform` says it (`meta` for the Graph API the Meta platforms share).
    static var name: String { get }
    /// `baseURL` is the sandbox's own address once bound (for upload URLs it hands out).
    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String)
    /// What an account brings to this platform besides an app and a refresh token, as its owner would hand
    /// it over: the account's settings by name (`SandboxServer.grant`). Default: nothing to take.
    static func grant(_ credentials: [String: String], account: String, state: isolated SandboxState)
    /// An account registered with a refresh token (`SandboxServer.registerAccount`), for a platform whose
    /// refresh token is itself a bearer (Threads). Default: nothing more.
    static func registered(_ account: SandboxState.Account, state: isolated SandboxState)
    /// Its unfinished uploads expire now, as if the client had been away past their lifetime
    /// (`SandboxState.expireUnfinishedUploads`). Default: it has none to expire.
    static func expireUnfinishedUploads(state: isolated SandboxState)
    /// Its unfinished uploads are forgotten outright, as when a session outlives its documented lifetime
    /// and the platform drops it (`SandboxState.forgetUnfinishedUploads`). Default: expiring them is all.
    static func forgetUnfinishedUploads(state: isolated SandboxState)
    /// The worlds of its that a persistent sandbox keeps across restarts. Default: none.
    static var keptWorlds: [any KeptWorld.Type] { get }
    /// Its answer to a WebSocket upgrade for `path` (one it handed out), nil for a path not its own.
    /// Default: it hands out none.
    static func webSocket(path: String, state: SandboxState) async -> SandboxWebSockets.Upgrade?
    /// The query parameter its consent page reads the app's id from. Default: `client_id`.
    static var clientIDParameter: String { get }
}

extension SandboxPlatform {
    static func grant(_ credentials: [String: String], account: String, state: isolated SandboxState) {}
    static func registered(_ account: SandboxState.Account, state: isolated SandboxState) {}
    static func expireUnfinishedUploads(state: isolated SandboxState) {}
    static func forgetUnfinishedUploads(state: isolated SandboxState) {}
    static var keptWorlds: [any KeptWorld.Type] { [] }
    static func webSocket(path: String, state: SandboxState) async -> SandboxWebSockets.Upgrade? { nil }
    static var clientIDParameter: String { "client_id" }
}

/// What one platform's sandbox remembers (its upload sessions, containers, posts): held by
/// `SandboxState`, reached only through `state[W.self]` by that platform's own files. Made empty on
/// first use.
protocol PlatformWorld {
    init()
}

/// A world a persistent sandbox writes to its snapshot and reads back at start (`SandboxState+Persistence`),
/// under the name it gives.
protocol KeptWorld: PlatformWorld, Codable {
    static var snapshotName: String { get }
}

/// A registry platform that has a side in the sandbox: its sandbox folder extends the platform's module
/// (`extension XPlatform: SandboxedPlatform`) with the sandbox platforms that speak for it, so the registry's
/// one line is all a new platform adds outside its folders. Destinations with nothing to speak to (a folder,
/// a command) have none.
protocol SandboxedPlatform {
    /// Several registry platforms may share one (Instagram and Facebook both speak the Graph API's `meta`).
    static var sandboxes: [any SandboxPlatform.Type] { get }
}

package enum SandboxPlatforms {
    /// Found by casting the registry's modules, in its order; a shared one once.
    static let all: [any SandboxPlatform.Type] = {
        var seen = Set<String>()
        return PlatformRegistry.platforms
            .flatMap { ($0 as? any SandboxedPlatform.Type)?.sandboxes ?? [] }
            .filter { seen.insert($0.name).inserted }
    }()

    static func named(_ name: String) -> (any SandboxPlatform.Type)? { all.first { $0.name == name } }

    /// The names of the sandbox platforms that speak for a registry platform (none for a folder or a command).
    package static func names(for module: any PlatformModule.Type) -> [String] {
        ((module as? any SandboxedPlatform.Type)?.sandboxes ?? []).map { $0.name }
    }

    /// The names of every sandbox platform served, in the order their routes are added.
    package static var names: [String] { all.map { $0.name } }

    /// Every world a persistent sandbox keeps, for reading a snapshot back.
    static var kept: [any KeptWorld.Type] { all.flatMap { $0.keptWorlds } }
}
