import AsyncHTTPClient
import Foundation
import NIOCore
import OmniPostCore
import OmniPostPipeline
import OmniPostPlatforms
import OmniPostSandbox
import ServiceLifecycle

/// A pipeline's bundled sandbox (`sandbox: embedded`), for the daemon and for the commands run beside it
/// (`accounts check`, `accounts add`): the one place that knows both the pipeline and the sandbox. It
/// lives in the pipeline's `root/sandbox`, keeps its ports and its state there across restarts
/// (`SandboxServer.persistent`), and every account of the pipeline is pointed at it in one place — so a
/// command never reaches a real platform's hosts with the sandbox's made-up credentials, and never
/// records in the ledger what such a call said.
///
/// Handed to `Pipeline.open`, `AccountHealth.check` and `AccountConnector` as their `PlatformEmbedding`;
/// in the daemon it is also one more service of its group, after which the pipelines' supervisor runs:
/// at a graceful shutdown the pipelines stop first, then the sandboxes it started.
package final class EmbeddedSandbox: PlatformEmbedding, Service {
    /// A sandbox this started, as the pipeline holds it.
    package struct Running: EmbeddedPlatforms {
        package let server: SandboxServer
        package var address: String { server.baseURL + (server.tlsPort.map { " and https://127.0.0.1:\($0)" } ?? "") }
        package func stop() async { await server.stop() }
    }

    private let started = StartedServers()

    package init() {}

    package static func folder(_ config: PipelineConfig) -> URL { config.paths.root.appendingPathComponent("sandbox") }

    /// Whether the platforms of `config` need the sandbox's HTTPS listener (Reddit's media host).
    static func needsTLS(_ config: PipelineConfig) -> Bool {
        config.accounts.values.contains { PlatformRegistry.descriptor($0.platform)?.sandboxTLS == true }
    }

    package func start(_ config: inout PipelineConfig, reusing running: (any EmbeddedPlatforms)?) async throws -> any EmbeddedPlatforms {
        let s: SandboxServer
        if let kept = (running as? Running)?.server, kept.root.standardizedFileURL.path == Self.folder(config).standardizedFileURL.path {
            s = kept
        } else {
            s = try await launch(config)
        }
        await Self.wire(&config, to: s)
        return Running(server: s)
    }

    /// The pipeline's sandbox, started on the ports it had before when they are free.
    func launch(_ config: PipelineConfig) async throws -> SandboxServer {
        let s = SandboxServer(root: Self.folder(config), persistent: true)
        try await s.start(tls: Self.needsTLS(config))
        started.add(s)
        return s
    }

    /// Points every account of `config` at the sandbox at `base` and returns what each brings to it.
    static func point(_ config: inout PipelineConfig, base: String, tlsCA: URL?) -> [(account: AccountConfig, grants: [SandboxGrant])] {
        var out: [(AccountConfig, [SandboxGrant])] = []
        for (key, var account) in config.accounts {
            let original = account
            let grants = PlatformRegistry.module(account.platform)?.useSandbox(&account, base: base, root: folder(config)) ?? []
            config.accounts[key] = account
            out.append((original, grants))
        }
        if let tlsCA { config.upload.caFile = config.upload.caFile ?? tlsCA }
        // A `captions:` model that names no endpoint is the sandbox's own.
        if var c = config.captions, c.endpoint.isEmpty {
            c.endpoint = base + SandboxServer.chatRoot
            config.captions = c
        }
        return out
    }

    /// Wires `config` to the running sandbox `s`: each account registered with it (its app, refresh token,
    /// and what its platform brings) and pointed at it; the sandbox's S3 as media host where none is named.
    static func wire(_ config: inout PipelineConfig, to s: SandboxServer) async {
        for (account, grants) in point(&config, base: s.baseURL, tlsCA: s.tlsPort != nil ? s.caFile : nil) {
            await s.registerAccount(
                platform: account.platform, name: String(account.key.split(separator: ":").last ?? ""),
                clientID: account.clientID, clientSecret: account.clientSecret, refreshToken: account.refreshToken)
            for g in grants { await s.grant(platform: g.platform, account: g.account, g.credentials) }
        }
        if var host = config.mediaHost, var bucket = host.s3, bucket.endpoint.isEmpty {
            bucket.endpoint = s.baseURL + "/s3"
            await s.grant(platform: "s3", account: "media_host", ["access_key_id": bucket.accessKeyID, "secret_access_key": bucket.secretAccessKey])
            host.s3 = bucket
            config.mediaHost = host
        }
    }

    package func attach(_ config: inout PipelineConfig, http: HTTPClient) async throws -> (any EmbeddedPlatforms)? {
        let root = Self.folder(config)
        if let ports = SandboxServer.Ports.remembered(root: root), await Self.answers(port: ports.http, root: root, http: http) {
            let ca = ports.https != nil ? SandboxServer.caFile(root: root) : nil
            _ = Self.point(&config, base: "http://127.0.0.1:\(ports.http)", tlsCA: ca)
            return nil
        }
        let s = try await launch(config)
        await Self.wire(&config, to: s)
        return Running(server: s)
    }

    /// Whether the pipeline's own sandbox listens on `port` (not another program, not another pipeline's).
    static func answers(port: Int, root: URL, http: HTTPClient) async -> Bool {
        guard let r = try? await http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/sandbox/identity"), timeout: .seconds(5)),
            r.status == .ok, let body = try? await r.body.collect(upTo: 64 * 1024),
            let json = (try? JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8))) as? [String: Any]
        else { return false }
        return json["root"] as? String == root.standardizedFileURL.path
    }

    /// Waits for the daemon's graceful shutdown, then stops every sandbox it started that still runs
    /// (a pipeline closed before has stopped its own; stopping one twice does nothing).
    package func run() async throws {
        try? await gracefulShutdown()
        for s in started.take() { await s.stop() }
    }
}

/// The sandboxes an `EmbeddedSandbox` started, for its shutdown.
final class StartedServers: @unchecked Sendable {
    private let lock = NSLock()
    private var servers: [SandboxServer] = []
    func add(_ s: SandboxServer) { lock.lock(); servers.append(s); lock.unlock() }
    func take() -> [SandboxServer] { lock.lock(); defer { servers = []; lock.unlock() }; return servers }
}
