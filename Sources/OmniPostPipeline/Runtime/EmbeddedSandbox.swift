import AsyncHTTPClient
import Foundation
import NIOCore
import OmniPostCore
import OmniPostPlatforms
import OmniPostSandbox

/// A pipeline's bundled sandbox (`sandbox: embedded`), for the daemon and for the commands run beside it
/// (`accounts check`, `accounts add`). It lives in the pipeline's `root/sandbox`, keeps its ports and its
/// state there across restarts (`SandboxServer.persistent`), and every account of the pipeline is pointed
/// at it in one place — so a command never reaches a real platform's hosts with the sandbox's made-up
/// credentials, and never records in the ledger what such a call said.
public enum EmbeddedSandbox {
    public static func folder(_ config: PipelineConfig) -> URL { config.paths.root.appendingPathComponent("sandbox") }

    /// Whether the platforms of `config` need the sandbox's HTTPS listener (Reddit's media host).
    static func needsTLS(_ config: PipelineConfig) -> Bool {
        config.accounts.values.contains { PlatformRegistry.descriptor($0.platform)?.sandboxTLS == true }
    }

    /// The pipeline's sandbox, started on the ports it had before when they are free.
    public static func start(_ config: PipelineConfig) async throws -> SandboxServer {
        let s = SandboxServer(root: folder(config), persistent: true)
        try await s.start(tls: needsTLS(config))
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
        return out
    }

    /// Wires `config` to the running sandbox `s`: each account registered with it (its app, refresh token,
    /// and what its platform brings) and pointed at it; the sandbox's S3 as media host where none is named.
    public static func wire(_ config: inout PipelineConfig, to s: SandboxServer) async {
        for (account, grants) in point(&config, base: s.baseURL, tlsCA: s.tlsPort != nil ? s.caFile : nil) {
            await s.registerAccount(platform: account.platform, name: String(account.key.split(separator: ":").last ?? ""),
                                    clientID: account.clientID, clientSecret: account.clientSecret, refreshToken: account.refreshToken)
            for g in grants { await s.state.grant(g) }
        }
        if var host = config.mediaHost, var bucket = host.s3, bucket.endpoint.isEmpty {
            bucket.endpoint = s.baseURL + "/s3"
            await s.state.registerS3(accessKeyID: bucket.accessKeyID, secret: bucket.secretAccessKey)
            host.s3 = bucket
            config.mediaHost = host
        }
    }

    /// For a command run beside the daemon: `config`'s accounts pointed at the pipeline's sandbox — the
    /// running daemon's, when the port it remembered answers as this pipeline's sandbox (its state is the
    /// daemon's, so a token refreshed here is one the daemon knows), else one started here from the state
    /// the last run left, which the caller stops when done (returned). Does nothing outside sandbox mode.
    public static func attach(_ config: inout PipelineConfig, http: HTTPClient) async throws -> SandboxServer? {
        guard config.sandbox == .embedded else { return nil }
        let root = folder(config)
        if let ports = SandboxServer.Ports.remembered(root: root), await answers(port: ports.http, root: root, http: http) {
            let ca = ports.https != nil ? SandboxServer.caFile(root: root) : nil
            _ = point(&config, base: "http://127.0.0.1:\(ports.http)", tlsCA: ca)
            return nil
        }
        let s = try await start(config)
        await wire(&config, to: s)
        return s
    }

    /// Whether the pipeline's own sandbox listens on `port` (not another program, not another pipeline's).
    static func answers(port: Int, root: URL, http: HTTPClient) async -> Bool {
        guard let r = try? await http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/sandbox/identity"), timeout: .seconds(5)),
              r.status == .ok, let body = try? await r.body.collect(upTo: 64 * 1024),
              let json = (try? JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8))) as? [String: Any] else { return false }
        return json["root"] as? String == root.standardizedFileURL.path
    }
}
