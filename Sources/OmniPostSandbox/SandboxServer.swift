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
public final class SandboxServer: Sendable {
    public let state: SandboxState
    /// Where it keeps what it was sent.
    public let root: URL
    let host: String
    let requestedPort: Int
    let logger: Logger
    private let portBox = PortBox()
    private let tlsPortBox = PortBox()
    private let task = TaskBox()

    public init(root: URL, host: String = "127.0.0.1", port: Int = 0, logger: Logger = SandboxServer.quietLogger) {
        self.state = SandboxState(root: root)
        self.root = root
        self.host = host
        self.requestedPort = port
        self.logger = logger
    }

    /// Warnings and errors only: the sandbox's per-request chatter is not the user's business.
    public static var quietLogger: Logger {
        var l = Logger(label: "omnipost.sandbox")
        l.logLevel = .warning
        return l
    }

    /// The bound port (valid after `start()`).
    public var port: Int { portBox.value ?? requestedPort }
    public var baseURL: String { "http://\(host):\(port)" }
    /// The HTTPS listener's port, when one was asked for (`start(tls: true)`).
    public var tlsPort: Int? { tlsPortBox.value }
    /// The CA certificate that signs the HTTPS listener's certificate (what a client trusts).
    public var caFile: URL { SandboxTLS.caFile(in: tlsFolder) }
    var tlsFolder: URL { state.root.appendingPathComponent("tls") }

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        let box = portBox, host = host
        for platform in SandboxPlatforms.all {
            platform.add(to: router, state: state) { "http://\(host):\(box.value ?? 0)" }
        }
        ControlRoutes.add(to: router, state: state)
        ConsentRoutes.add(to: router, state: state)
        return router
    }

    /// The same routes over plain HTTP, and (with `tls`) HTTPS on a second port; both upgrade the
    /// WebSocket paths the platforms hand out (Reddit's submit result).
    func makeServices(tls: Bool, onRunning: @escaping @Sendable (Int) -> Void) throws -> [any Service] {
        let router = makeRouter(), state = state
        let upgrade: @Sendable (HTTPRequest, any Channel, Logger) async throws -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> = { head, _, _ in
            await SandboxWebSockets.upgrade(head, state: state)
        }
        var services: [any Service] = [Application(
            router: router, server: .http1WebSocketUpgrade(shouldUpgrade: upgrade),
            configuration: .init(address: .hostname(host, port: requestedPort), serverName: "omnipost-sandbox"),
            onServerRunning: { channel in onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)]
        if tls {
            let box = tlsPortBox, host = host
            services.append(try Application(
                router: router, server: .tls(.http1WebSocketUpgrade(shouldUpgrade: upgrade), tlsConfiguration: SandboxTLS.serverConfiguration(folder: tlsFolder)),
                configuration: .init(address: .hostname(host, port: 0), serverName: "omnipost-sandbox"),
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
    public func start(tls: Bool = false) async throws {
        let services = try makeServices(tls: tls) { [portBox] p in portBox.set(p) }
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        let t = Task { try await group.run() }
        task.set(t, group)
        for _ in 0..<500 {
            if portBox.value != nil, !tls || tlsPortBox.value != nil { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        await group.triggerGracefulShutdown()
        throw OmniError(.internalError, "the sandbox did not start listening on \(host):\(requestedPort)")
    }

    /// Stops gracefully: requests in flight finish, then the listener closes.
    public func stop() async {
        await task.group?.triggerGracefulShutdown()
        _ = try? await task.value?.value
    }

    /// Runs in the foreground until SIGINT/SIGTERM (`omnipost sandbox`).
    public func runForeground(tls: Bool = true, onRunning: @escaping @Sendable (Int) -> Void) async throws {
        let services = try makeServices(tls: tls) { [portBox] p in portBox.set(p); onRunning(p) }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }

    /// Registers an account the way a developer console would: a client and a refresh token.
    public func registerAccount(platform: String, name: String, clientID: String, clientSecret: String, refreshToken: String) async {
        await state.register(.init(platform: platform, name: name, clientID: clientID, clientSecret: clientSecret, refreshToken: refreshToken))
    }
}

final class PortBox: @unchecked Sendable {
    private let lock = NSLock()
    private var v: Int?
    func set(_ p: Int) { lock.lock(); v = p; lock.unlock() }
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
