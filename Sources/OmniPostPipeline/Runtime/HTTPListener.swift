import Foundation
import Hummingbird
import Logging
import OmniPostCore
import OmniPostIngest
import ServiceLifecycle

/// The daemon's own HTTP listener (`http:`): `/healthz`, `/readyz`, `/metrics`, the JSON API
/// (`OperatorRoutes`), and the media it hands platforms signed links to (`media_host: {serve: true}`) — each file only with a valid, unexpired signature, with
/// Range, HEAD and conditional requests as Hummingbird's FileMiddleware serves them. It runs beside
/// the stages and shares nothing with them but the folder the upload stage puts renditions in.
public final class HTTPListener: Sendable {
    let task: Task<Void, any Error>
    let group: ServiceGroup
    public let port: Int
    /// The open pipeline, once there is one: what `/metrics`, `/readyz` and `/api/v1` read.
    let operatorBox: OperatorBox

    init(task: Task<Void, any Error>, group: ServiceGroup, port: Int, operatorBox: OperatorBox) {
        self.task = task
        self.group = group
        self.port = port
        self.operatorBox = operatorBox
    }

    /// Gives the routes the pipeline they report on.
    func attach(_ ctx: PipelineContext, watcher: InboxWatcher) { operatorBox.set(ctx, watcher) }

    /// Binds and starts serving; returns once the port is bound.
    public static func start(_ config: HTTPConfig, media: (folder: URL, signer: MediaLinkSigner)?, logger: Logger) async throws -> HTTPListener {
        let router = Router(context: OperatorContext.self)
        let token = config.tokenFile.flatMap { try? String(contentsOf: $0, encoding: .utf8) }?.trimmingCharacters(in: .whitespacesAndNewlines)
        let access = OperatorAccess(token: token)
        let box = OperatorBox()
        if let media {
            try FileManager.default.createDirectory(at: media.folder, withIntermediateDirectories: true)
            router.add(middleware: SignedMediaMiddleware(signer: media.signer, files: FileMiddleware(media.folder.path, urlBasePath: "/media", logger: logger)))
        }
        router.add(middleware: ReadGuard(access: access))
        router.get("/healthz") { _, _ in "ok\n" }
        OperatorRoutes.add(to: router, box: box, access: access)
        DashboardRoutes.add(to: router, box: box, access: access, library: try await DashboardRoutes.templates())
        let bound = BoundPort()
        // An idle connection is closed after a minute; bodies are capped by the context (64 KiB).
        let app = Application(router: router, server: .http1(configuration: .init(idleTimeout: .seconds(60))),
                              configuration: .init(address: .hostname(config.host, port: config.port), serverName: "omnipost"),
                              onServerRunning: { channel in bound.set(channel.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        for _ in 0..<500 {
            if let p = bound.value { return HTTPListener(task: task, group: group, port: p, operatorBox: box) }
            if task.isCancelled { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        await group.triggerGracefulShutdown()
        let why = await (try? task.value).map { _ in "it stopped" } ?? "see the log"
        throw OmniError(.configInvalid, "the http listener could not bind \(config.host):\(config.port) (\(why)); is another process using the port?")
    }

    public func stop() async {
        operatorBox.stopping = true
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

/// `/media/<name>?expires=…&sig=…` goes to the files only with a signature of ours that has not
/// expired; anything else under `/media/` is 403, and other paths pass by.
struct SignedMediaMiddleware<Context: RequestContext>: RouterMiddleware {
    let signer: MediaLinkSigner
    let files: FileMiddleware<Context, LocalFileSystem>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/media/") else { return try await next(request, context) }
        let name = String(request.uri.path.dropFirst("/media/".count))
        let q = request.uri.queryParameters
        guard signer.verify(name: name, expires: q["expires"].map(String.init), sig: q["sig"].map(String.init)) else {
            return Response(status: .forbidden, headers: [.contentType: "text/plain"], body: .init(byteBuffer: .init(string: "this link is not valid, or it expired\n")))
        }
        // FileMiddleware serves a file where the rest of the chain answers "not found".
        return try await files.handle(request, context: context) { _, _ in throw HTTPError(.notFound) }
    }
}

/// Reads from another machine need the token (bearer) or a signed-in session; from this one they are
/// free. `/healthz`, the sign-in page, the stylesheet and script, and signed media links are open to all.
struct ReadGuard: RouterMiddleware {
    let access: OperatorAccess
    static let open = ["/healthz", "/login", "/static/style.css", "/static/live.js"]

    func handle(_ request: Request, context: OperatorContext, next: (Request, OperatorContext) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if Self.open.contains(path) || path.hasPrefix("/media/") || access.mayRead(request, context) {
            return try await next(request, context)
        }
        // A person at a browser is sent to sign in; a program is told what it lacks.
        if request.method == .get, !path.hasPrefix("/api/"), path != "/metrics", path != "/readyz", path != "/live" {
            return Response(status: .seeOther, headers: [.location: "/login?back=" + (path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? "/")])
        }
        return Response(status: .unauthorized, headers: [.contentType: "text/plain; charset=utf-8", .wwwAuthenticate: "Bearer"],
                        body: .init(byteBuffer: .init(string: "from another machine, reads need the token from http.token_file (Authorization: Bearer …) or a signed-in session\n")))
    }
}

final class BoundPort: @unchecked Sendable {
    private let lock = NSLock()
    private var v: Int?
    func set(_ p: Int) { lock.lock(); v = p; lock.unlock() }
    var value: Int? { lock.lock(); defer { lock.unlock() }; return v }
}
