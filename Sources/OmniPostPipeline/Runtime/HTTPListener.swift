import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import OmniPostCore
import OmniPostIngest
import ServiceLifecycle

/// The daemon's own HTTP listener (`http:`): `/healthz`, `/readyz`, `/metrics`, the JSON API
/// (`OperatorRoutes`), and the media it hands platforms signed links to (`media_host: {serve: true}`) — each file only with a valid, unexpired signature, with
/// Range, HEAD and conditional requests as Hummingbird's FileMiddleware serves them. It runs beside
/// the stages and shares nothing with them but the folder the upload stage puts renditions in.
package final class HTTPListener: Sendable {
    let task: Task<Void, any Error>
    let group: ServiceGroup
    package let port: Int
    let config: HTTPConfig
    /// The open pipelines, once there are any: what `/metrics`, `/readyz`, `/api/v1` and the dashboard read.
    let operatorBox: OperatorBox
    /// The folders and keys of the pipelines whose media it serves (`media_host: {serve: true}`).
    let media: MediaShelf

    init(task: Task<Void, any Error>, group: ServiceGroup, port: Int, config: HTTPConfig, operatorBox: OperatorBox, media: MediaShelf) {
        self.task = task
        self.group = group
        self.port = port
        self.config = config
        self.operatorBox = operatorBox
        self.media = media
    }

    /// Gives the routes a pipeline they report on (several pipelines of one daemon may share a listener).
    func attach(_ ctx: PipelineContext, watcher: InboxWatcher) { operatorBox.set(ctx, watcher) }

    /// Listeners of this process by address: pipelines run by one daemon that name the same `listen:`
    /// share one listener (one dashboard, one `/metrics`), kept until the last of them closes.
    static let hub = ListenerHub()

    /// The listener for `config`: the one this process already runs on that address, or a new one.
    static func acquire(_ config: HTTPConfig, pipeline: String, media: (folder: URL, signer: MediaLinkSigner)?, logger: Logger) async throws -> HTTPListener {
        try await hub.acquire(config, pipeline: pipeline) {
            try await start(config, logger: logger)
        }.adding(media, for: pipeline)
    }

    /// Lets go of `pipeline`'s share: its pages go, and the listener stops with the last share.
    func release(pipeline: String, context: PipelineContext?) async {
        if let context { operatorBox.remove(context) }
        media.remove(pipeline)
        if await Self.hub.release(self, pipeline: pipeline) { await stop() }
    }

    func adding(_ m: (folder: URL, signer: MediaLinkSigner)?, for pipeline: String) throws -> HTTPListener {
        if let m {
            try FileManager.default.createDirectory(at: m.folder, withIntermediateDirectories: true)
            media.add(pipeline, folder: m.folder, signer: m.signer)
        }
        return self
    }

    /// Connections served at once; the rest wait to be accepted. Far below any file-descriptor limit the
    /// daemon runs with (the unit gives 65,536; the process raises its soft limit to the hard one).
    static let maxConnections = 128
    /// A connection that sends nothing (or half a request's headers) for this long is closed: the idle
    /// timeout is also the header-read timeout. A response being streamed (`/live`) is never cut by it.
    static let idleSeconds: Int64 = 15

    /// Binds and starts serving; returns once the port is bound.
    package static func start(_ config: HTTPConfig, media: (folder: URL, signer: MediaLinkSigner)? = nil, logger: Logger) async throws -> HTTPListener {
        let router = Router(context: OperatorContext.self)
        let token = config.tokenFile.flatMap { try? String(contentsOf: $0, encoding: .utf8) }?.trimmingCharacters(in: .whitespacesAndNewlines)
        let access = OperatorAccess(token: token, loopbackReadsOpen: config.loopbackReadsOpen, secureCookie: config.secureCookie, logger: logger)
        let box = OperatorBox()
        let shelf = MediaShelf(logger: logger)
        router.add(middleware: SignedMediaMiddleware(shelf: shelf))
        router.add(middleware: MethodGuard())
        router.add(middleware: ReadGuard(access: access))
        router.add(middleware: SnapshotCache(box: box, access: access))
        router.get("/healthz") { _, _ in "ok\n" }
        OperatorRoutes.add(to: router, box: box, access: access)
        DashboardRoutes.add(to: router, box: box, access: access, library: try await DashboardRoutes.templates())
        let bound = BoundPort()
        // An idle connection (or one still sending its headers) is closed after 15 s; bodies are capped by the context (64 KiB).
        // At most `maxConnections` at once: more wait in the kernel's backlog instead of each taking a file
        // descriptor the stages and the ledger need (a flood of idle connections must not wedge the daemon).
        let app = QuietHTTPServer(
            responder: router.buildResponder(), server: .http1(configuration: .init(idleTimeout: .seconds(Self.idleSeconds))),
            configuration: .init(
                address: .hostname(config.host, port: config.port), serverName: "omnipost",
                availableConnectionsDelegate: MaximumAvailableConnections(Self.maxConnections, logger: logger)),
            onServerRunning: { channel in bound.set(channel.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        for _ in 0..<500 {
            if let p = bound.value {
                return try HTTPListener(task: task, group: group, port: p, config: config, operatorBox: box, media: shelf).adding(media, for: "")
            }
            if task.isCancelled { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        await group.triggerGracefulShutdown()
        let why = await (try? task.value).map { _ in "it stopped" } ?? "see the log"
        throw OmniError(.configInvalid, "the http listener could not bind \(config.host):\(config.port) (\(why)); is another process using the port?")
    }

    package func stop() async {
        operatorBox.stopping = true
        await operatorBox.logins.cancelAll()
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

/// This process's listeners by `host:port`, each with the pipelines sharing it. A listener on port 0
/// (tests, sandbox mode) is never shared: each asks for a port of its own.
actor ListenerHub {
    private var open: [String: (listener: HTTPListener, pipelines: Set<String>)] = [:]

    func acquire(_ config: HTTPConfig, pipeline: String, start: () async throws -> HTTPListener) async throws -> HTTPListener {
        let key = "\(config.host):\(config.port)"
        if config.port != 0, var held = open[key] {
            guard held.listener.config == config else {
                throw OmniError(
                    .configInvalid,
                    "pipelines \(held.pipelines.sorted().joined(separator: ", ")) and \(pipeline) both listen on \(key) with different `http:` settings; give them the same `http:` (one listener, one dashboard) or different ports"
                )
            }
            held.pipelines.insert(pipeline)
            open[key] = held
            return held.listener
        }
        let l = try await start()
        if config.port != 0 { open[key] = (l, [pipeline]) }
        return l
    }

    /// True when nobody holds the listener any more (the caller stops it).
    func release(_ l: HTTPListener, pipeline: String) -> Bool {
        let key = "\(l.config.host):\(l.config.port)"
        guard l.config.port != 0, var held = open[key], held.listener === l else { return true }
        held.pipelines.remove(pipeline)
        if held.pipelines.isEmpty { open[key] = nil; return true }
        open[key] = held
        return false
    }
}

/// The media folders a listener serves, each with the key its links are signed with.
final class MediaShelf: @unchecked Sendable {
    private let lock = NSLock()
    private var shelves: [(pipeline: String, signer: MediaLinkSigner, files: FileMiddleware<OperatorContext, LocalFileSystem>)] = []
    let logger: Logger
    init(logger: Logger) { self.logger = logger }

    func add(_ pipeline: String, folder: URL, signer: MediaLinkSigner) {
        lock.lock(); defer { lock.unlock() }
        shelves.removeAll { $0.pipeline == pipeline }
        shelves.append((pipeline, signer, FileMiddleware(folder.path, urlBasePath: "/media", logger: logger)))
    }

    func remove(_ pipeline: String) { lock.lock(); shelves.removeAll { $0.pipeline == pipeline }; lock.unlock() }

    /// The folder whose key signed this link, if one did and it has not expired.
    func files(name: String, expires: String?, sig: String?) -> FileMiddleware<OperatorContext, LocalFileSystem>? {
        lock.lock(); defer { lock.unlock() }
        return shelves.first { $0.signer.verify(name: name, expires: expires, sig: sig) }?.files
    }
}

/// `/media/<name>?expires=…&sig=…` goes to the files only with a signature of ours that has not
/// expired; anything else under `/media/` is 403, and other paths pass by.
struct SignedMediaMiddleware: RouterMiddleware {
    let shelf: MediaShelf

    func handle(_ request: Request, context: OperatorContext, next: (Request, OperatorContext) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/media/") else { return try await next(request, context) }
        let name = String(request.uri.path.dropFirst("/media/".count))
        let q = request.uri.queryParameters
        guard let files = shelf.files(name: name, expires: q["expires"].map(String.init), sig: q["sig"].map(String.init)) else {
            return Response(status: .forbidden, headers: [.contentType: "text/plain"], body: .init(byteBuffer: .init(string: "this link is not valid, or it expired\n")))
        }
        // FileMiddleware serves a file where the rest of the chain answers "not found".
        return try await files.handle(request, context: context) { _, _ in throw HTTPError(.notFound) }
    }
}

/// Reads need the token (bearer) or a signed-in session, but from this machine when no token is set
/// (or `loopback_reads: open`) — `OperatorAccess.mayRead`. `/healthz`, the sign-in page, the stylesheet
/// and script, and signed media links are open to all. A wrong bearer token counts against its source.
struct ReadGuard: RouterMiddleware {
    let access: OperatorAccess
    static let open = ["/healthz", "/login", "/static/style.css", "/static/live.js", "/static/favicon.svg"]

    func handle(_ request: Request, context: OperatorContext, next: (Request, OperatorContext) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if Self.open.contains(path) || path.hasPrefix("/media/") { return try await next(request, context) }
        let presented = request.headers[.authorization] != nil
        if presented, let held = access.heldBack(request, context) { return held }
        if access.mayRead(request, context) { return try await next(request, context) }
        if presented { access.failed(request, context, what: "bearer token") }
        // A person at a browser is sent to sign in; a program is told what it lacks.
        if request.method == .get, !path.hasPrefix("/api/"), path != "/metrics", path != "/readyz", path != "/live" {
            return Response(status: .seeOther, headers: [.location: "/login?back=" + (path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? "/")])
        }
        // The API answers in JSON, its refusals too (docs/openapi.yaml).
        if path.hasPrefix("/api/") {
            var r = OperatorRoutes.json(
                .unauthorized,
                [
                    "error": "unauthorized",
                    "message": access.token == nil
                        ? "this request needs http.token_file set, and its token as a bearer token"
                        : "a bearer token is needed: Authorization: Bearer <token from http.token_file> (or a signed-in session)"
                ])
            r.headers[.wwwAuthenticate] = "Bearer realm=\"omnipost\""
            return r
        }
        return Response(
            status: .unauthorized, headers: [.contentType: "text/plain; charset=utf-8", .wwwAuthenticate: "Bearer"],
            body: .init(byteBuffer: .init(string: "reads need the token from http.token_file (Authorization: Bearer …) or a signed-in session\n")))
    }
}

/// A method a documented path does not serve is 405 with `Allow` naming the ones it does (RFC 9110
/// §15.5.6), not 404 as if the path did not exist — schemathesis' check found the 404s.
struct MethodGuard: RouterMiddleware {
    func handle(_ request: Request, context: OperatorContext, next: (Request, OperatorContext) async throws -> Response) async throws -> Response {
        let served = Self.methods(for: request.uri.path)
        guard !served.isEmpty else { return try await next(request, context) }
        let method = request.method.rawValue.lowercased()
        if served.contains(method) || (method == "head" && served.contains("get")) { return try await next(request, context) }
        let allow = (served.contains("get") ? served + ["head"] : served).map { $0.uppercased() }.sorted().joined(separator: ", ")
        return Response(
            status: .methodNotAllowed, headers: [.allow: allow, .contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: .init(string: "\(request.uri.path) takes \(allow)\n")))
    }

    /// The methods `docs/openapi.yaml` documents for a path (a `{id}` is one segment).
    static func methods(for path: String) -> [String] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return OperatorRoutes.paths.filter { route in
            let pattern = route.path.split(separator: "/", omittingEmptySubsequences: false)
            return pattern.count == parts.count && zip(pattern, parts).allSatisfy { p, x in p == x || (p.hasPrefix("{") && !x.isEmpty) }
        }.map(\.method)
    }
}

final class BoundPort: @unchecked Sendable {
    private let lock = NSLock()
    private var v: Int?
    func set(_ p: Int) { lock.lock(); v = p; lock.unlock() }
    var value: Int? { lock.lock(); defer { lock.unlock() }; return v }
}
