import Foundation
import Hummingbird
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import OmniPostCore
import ServiceLifecycle

/// The bundled sandbox: speaks the platforms' documented upload protocols on loopback so the whole
/// product runs offline (demo, users' dry runs, tests). A product feature, not a test double.
package final class SandboxServer: Sendable {
    package let state: SandboxState
    /// Where it keeps what it was sent.
    package let root: URL
    let host: String
    let requestedPort: Int
    let logger: Logger
    /// Keeps its ports and its state across restarts (`sandbox: embedded`): see `Ports` and `SandboxState+Persistence`.
    package let persistent: Bool
    private let portBox = PortBox()
    private let tlsPortBox = PortBox()
    private let task = TaskBox()

    package init(root: URL, host: String = "127.0.0.1", port: Int = 0, persistent: Bool = false, logger: Logger = SandboxServer.quietLogger) {
        self.state = SandboxState(root: root, persistent: persistent)
        self.root = root
        self.host = host
        self.requestedPort = port
        self.persistent = persistent
        self.logger = logger
    }

    /// The ports a persistent sandbox had (`ports.json` in its folder): it takes them again at its next
    /// start, so the upload sessions and media addresses its clients checkpointed still reach it, and a
    /// command run beside the daemon (`accounts check`) finds it there.
    package struct Ports: Codable, Sendable, Equatable {
        package var http: Int
        package var https: Int?

        static func file(_ root: URL) -> URL { root.appendingPathComponent("ports.json") }
        package static func remembered(root: URL) -> Ports? {
            (try? Data(contentsOf: file(root))).flatMap { try? JSONDecoder().decode(Ports.self, from: $0) }
        }
        func save(root: URL) {
            try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try? (try? JSONEncoder().encode(self))?.write(to: Self.file(root), options: .atomic)
        }
    }

    /// Warnings and errors only: the sandbox's per-request chatter is not the user's business.
    package static var quietLogger: Logger {
        var l = Logger(label: "omnipost.sandbox")
        l.logLevel = .warning
        return l
    }

    /// The bound port (valid after `start()`).
    package var port: Int { portBox.value ?? requestedPort }
    package var baseURL: String { "http://\(host):\(port)" }
    /// The API root of its OpenAI-compatible chat endpoint (a sandboxed pipeline's `captions:` model).
    package static let chatRoot = "/openai/v1"
    /// The HTTPS listener's port, when one was asked for (`start(tls: true)`).
    package var tlsPort: Int? { tlsPortBox.value }
    /// The CA certificate that signs the HTTPS listener's certificate (what a client trusts).
    package var caFile: URL { SandboxTLS.caFile(in: tlsFolder) }
    /// The same, for the sandbox kept in `root` (a command beside the daemon trusts its HTTPS listener).
    package static func caFile(root: URL) -> URL { SandboxTLS.caFile(in: root.appendingPathComponent("tls")) }
    var tlsFolder: URL { state.root.appendingPathComponent("tls") }

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        let box = portBox, host = host
        for platform in SandboxPlatforms.all {
            platform.add(to: router, state: state) { "http://\(host):\(box.value ?? 0)" }
        }
        ControlRoutes.add(to: router, state: state)
        ChatRoutes.add(to: router, state: state)
        ConsentRoutes.add(to: router, state: state)
        return router
    }

    /// The same routes over plain HTTP, and (with `tls`) HTTPS on a second port; both upgrade the
    /// WebSocket paths the platforms hand out (Reddit's submit result).
    func makeServices(tls: Bool, port: Int? = nil, tlsPort: Int = 0, onRunning: @escaping @Sendable (Int) -> Void) throws -> [any Service] {
        let port = port ?? requestedPort
        let router = makeRouter(), state = state
        let upgrade: @Sendable (HTTPRequest, any Channel, Logger) async throws -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> = { head, _, _ in
            await SandboxWebSockets.upgrade(head, state: state)
        }
        var services: [any Service] = [
            Application(
                router: router, server: .http1WebSocketUpgrade(shouldUpgrade: upgrade),
                configuration: .init(address: .hostname(host, port: port), serverName: "omnipost-sandbox"),
                onServerRunning: { channel in onRunning(channel.localAddress?.port ?? 0) },
                logger: logger)
        ]
        if tls {
            let box = tlsPortBox, host = host
            services.append(
                try Application(
                    router: router, server: .tls(.http1WebSocketUpgrade(shouldUpgrade: upgrade), tlsConfiguration: SandboxTLS.serverConfiguration(folder: tlsFolder)),
                    configuration: .init(address: .hostname(host, port: tlsPort), serverName: "omnipost-sandbox"),
                    onServerRunning: { channel in
                        let p = channel.localAddress?.port ?? 0
                        box.set(p)
                        await state.setSecureHost("\(host):\(p)")
                    },
                    logger: logger))
        }
        return services
    }

    /// Starts serving in the background and returns once the port is bound (and, with `tls`, the HTTPS
    /// one too: its certificate is made first if the sandbox folder has none).
    package func start(tls: Bool = false) async throws {
        guard persistent, requestedPort == 0, let had = Ports.remembered(root: root) else {
            try await launch(tls: tls, port: requestedPort, tlsPort: 0)
            if persistent { Ports(http: port, https: tlsPort).save(root: root) }
            return
        }
        do {
            try await launch(tls: tls, port: had.http, tlsPort: tls ? had.https ?? 0 : 0)
        } catch {
            // Another program took the port meanwhile: any free one. Sessions that named the old port are
            // answered by nobody, and their deliveries start those uploads again.
            try await launch(tls: tls, port: 0, tlsPort: 0)
        }
        Ports(http: port, https: tlsPort ?? had.https).save(root: root)
    }

    /// Binds and serves in the background; throws when a port cannot be had.
    func launch(tls: Bool, port: Int, tlsPort: Int) async throws {
        portBox.clear()
        tlsPortBox.clear()
        let services = try makeServices(tls: tls, port: port, tlsPort: tlsPort) { [portBox] p in portBox.set(p) }
        var configuration = ServiceGroupConfiguration(services: services, logger: logger)
        // A connection still open when the sandbox stops (a WebSocket a client left behind) is cut after a
        // grace, as a real server's shutdown does: stopping never waits on a client.
        configuration.maximumGracefulShutdownDuration = .seconds(5)
        let group = ServiceGroup(configuration: configuration)
        let failed = PortBox()
        let t = Task {
            do { try await group.run() } catch {
                failed.set(1)
                throw error
            }
        }
        task.set(t, group)
        for _ in 0..<500 {
            if failed.value != nil { break }
            if portBox.value != nil, !tls || tlsPortBox.value != nil { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        await group.triggerGracefulShutdown()
        _ = try? await t.value
        portBox.clear()
        tlsPortBox.clear()
        throw OmniError(.internalError, "the sandbox did not start listening on \(host):\(port)" + (tls ? " and \(host):\(tlsPort)" : ""))
    }

    /// Stops gracefully: requests in flight finish (for at most 5 s, then they are cut), then the
    /// listener closes. Every handler ends by then — a WebSocket with its client, or when cut — so the
    /// stop is awaited whole.
    package func stop() async {
        await task.group?.triggerGracefulShutdown()
        guard let running = task.value else { return }
        // A shutdown that has not ended 15 s after its 5 s grace is cancelled: a stop never hangs
        // whoever awaits it (a test's teardown, the daemon's exit), whatever a service is stuck on.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(20))
            running.cancel()
        }
        _ = try? await running.value
        watchdog.cancel()
    }

    /// Runs in the foreground until SIGINT/SIGTERM (`omnipost sandbox`).
    package func runForeground(tls: Bool = true, onRunning: @escaping @Sendable (Int) -> Void) async throws {
        let services = try makeServices(tls: tls) { [portBox] p in
            portBox.set(p); onRunning(p)
        }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }

    /// Hands a platform what an account's owner would besides its app (keys, a token, a password, a
    /// secret), by the names the account's settings give them; the platform's sandbox takes it.
    package func grant(platform: String, account: String, _ credentials: [String: String]) async {
        await state.grant(platform: platform, account: account, credentials)
    }

    /// Registers an account the way a developer console would: a client and a refresh token.
    package func registerAccount(platform: String, name: String, clientID: String, clientSecret: String, refreshToken: String) async {
        await state.register(.init(platform: platform, name: name, clientID: clientID, clientSecret: clientSecret, refreshToken: refreshToken))
    }
}

final class PortBox: @unchecked Sendable {
    private let lock = NSLock()
    private var v: Int?
    func set(_ p: Int) { lock.lock(); v = p; lock.unlock() }
    func clear() { lock.lock(); v = nil; lock.unlock() }
    var value: Int? { lock.lock(); defer { lock.unlock() }; return v }
}

final class TaskBox: @unchecked Sendable {
    private let lock = NSLock()
    private var t: Task<Void, any Error>?
    private var g: ServiceGroup?
    func set(_ x: Task<Void, any Error>, _ group: ServiceGroup) { lock.lock(); t = x; g = group; lock.unlock() }
    var value: Task<Void, any Error>? { lock.lock(); defer { lock.unlock() }; return t }
    var group: ServiceGroup? { lock.lock(); defer { lock.unlock() }; return g }
}
