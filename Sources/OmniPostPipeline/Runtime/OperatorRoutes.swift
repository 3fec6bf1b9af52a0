import Foundation
import Hummingbird
import OmniPostCore
import OmniPostIngest
import OmniPostLedger
import OmniPostPlatforms

/// What the listener serves an operator once the pipeline is open: `/metrics`, `/readyz`, and the JSON
/// API under `/api/v1/` — reads free on loopback, every mutation (retry, cancel) only with the bearer
/// token from `http.token_file`. Nothing here can block a stage: reads are ledger snapshots, and a
/// mutation is the same ledger call `omnipost retry`/`cancel` makes.
final class OperatorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (ctx: PipelineContext, watcher: InboxWatcher, adapters: [String: any PlatformAdapter])?
    private var stop = false
    func set(_ ctx: PipelineContext, _ watcher: InboxWatcher) { lock.lock(); value = (ctx, watcher, ctx.adapters); lock.unlock() }
    var current: (ctx: PipelineContext, watcher: InboxWatcher, adapters: [String: any PlatformAdapter])? { lock.lock(); defer { lock.unlock() }; return value }
    /// Set when the listener stops: long-lived answers (the dashboard's event stream) end.
    var stopping: Bool {
        get { lock.lock(); defer { lock.unlock() }; return stop }
        set { lock.lock(); stop = newValue; lock.unlock() }
    }
}

enum OperatorRoutes {
    /// Every path the listener serves, as `docs/openapi.yaml` documents them (a test holds them equal).
    static let paths: [(method: String, path: String)] = [
        ("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics"), ("get", "/api/v1/drops"), ("get", "/api/v1/drops/{id}"),
        ("get", "/api/v1/deliveries"), ("get", "/api/v1/queue"), ("get", "/api/v1/quotas"), ("get", "/api/v1/accounts"),
        ("get", "/api/v1/events"), ("post", "/api/v1/retry/{id}"), ("post", "/api/v1/cancel/{id}"),
    ]

    static let notReady = Response(status: .serviceUnavailable, headers: [.contentType: "text/plain"], body: .init(byteBuffer: .init(string: "the pipeline is still opening\n")))

    static func json(_ status: HTTPResponse.Status = .ok, _ object: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: .init(data: data)))
    }

    static func encodable<T: Encodable>(_ value: T) -> Any {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        return (try? JSONSerialization.jsonObject(with: e.encode(value))) ?? NSNull()
    }

    static func add(to router: Router<OperatorContext>, box: OperatorBox, access: OperatorAccess) {
        let token = access.token
        /// A mutation needs `Authorization: Bearer <token>`; with no token configured, none is allowed.
        @Sendable func authorized(_ req: Request) -> Bool { access.bearer(req) }

        router.get("/metrics") { _, _ -> Response in
            guard let o = box.current else { return notReady }
            let text = try MetricsExport.text(config: o.ctx.config, ledger: o.ctx.ledger, profiles: o.ctx.profiles)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: .init(string: text)))
        }
        router.get("/readyz") { _, _ -> Response in
            guard let o = box.current else { return notReady }
            let checks = Readiness.check(o.ctx, watcher: o.watcher)
            return json(checks.allSatisfy(\.ok) ? .ok : .serviceUnavailable,
                        ["ready": checks.allSatisfy(\.ok), "checks": checks.map { ["name": $0.name, "ok": $0.ok, "detail": $0.detail] }])
        }
        router.get("/api/v1/drops") { req, _ -> Response in
            guard let o = box.current else { return notReady }
            let p = Page(req)
            var drops = try o.ctx.ledger.drops()
            if let s = p.state { drops = drops.filter { $0.state.rawValue == s } }
            return json(.ok, p.slice(drops.sorted { $0.id < $1.id }.map { encodable($0) }))
        }
        router.get("/api/v1/drops/:id") { _, c -> Response in
            guard let o = box.current else { return notReady }
            let id = c.parameters.get("id") ?? ""
            guard let d = try o.ctx.ledger.drops().first(where: { $0.id == id }) else { return json(.notFound, ["error": "no drop \(id)"]) }
            return json(.ok, ["drop": encodable(d), "deliveries": try o.ctx.ledger.deliveries(forDrop: id).map { encodable($0) },
                              "events": try o.ctx.ledger.events(forDrop: id).map { encodable($0) }])
        }
        router.get("/api/v1/deliveries") { req, _ -> Response in
            guard let o = box.current else { return notReady }
            let p = Page(req)
            var ds = try o.ctx.ledger.allDeliveries()
            if let s = p.state { ds = ds.filter { $0.state.rawValue == s } }
            if let pl = p.platform { ds = ds.filter { $0.platform == pl } }
            return json(.ok, p.slice(ds.map { encodable($0) }))
        }
        router.get("/api/v1/queue") { _, _ -> Response in
            guard let o = box.current else { return notReady }
            let r = try StatusReport.gather(config: o.ctx.config, ledger: o.ctx.ledger, profiles: o.ctx.profiles)
            return json(.ok, ["items": r.queue.map { encodable($0) }])
        }
        router.get("/api/v1/quotas") { _, _ -> Response in
            guard let o = box.current else { return notReady }
            return json(.ok, ["items": try o.ctx.ledger.quotaUse(accounts: Array(o.ctx.config.accounts.keys), rules: o.ctx.profiles.quotas).map { encodable($0) }])
        }
        router.get("/api/v1/accounts") { _, _ -> Response in
            guard let o = box.current else { return notReady }
            let r = try StatusReport.gather(config: o.ctx.config, ledger: o.ctx.ledger, profiles: o.ctx.profiles)
            return json(.ok, ["items": r.accounts.map { encodable($0) }, "warnings": r.accountWarnings, "breakers": try o.ctx.ledger.breakers().map { encodable($0) }])
        }
        router.get("/api/v1/events") { req, _ -> Response in
            guard let o = box.current else { return notReady }
            let p = Page(req)
            let q = req.uri.queryParameters
            let events = try o.ctx.ledger.events(afterId: Int64(q["after"].map(String.init) ?? "") ?? 0, limit: p.limit + 1, drop: q["drop"].map(String.init),
                                                 stage: q["stage"].map(String.init), since: q["since"].flatMap { Double(String($0)) })
            return json(.ok, ["items": events.prefix(p.limit).map { encodable($0) }, "next_after": events.count > p.limit ? (events[p.limit - 1].id ?? 0) as Any : NSNull()])
        }
        for action in ["retry", "cancel"] {
            router.post("/api/v1/\(action)/:id") { req, c -> Response in
                guard authorized(req) else {
                    return json(.unauthorized, ["error": token == nil ? "mutations need http.token_file set, and its token as a bearer token" : "a bearer token is needed: Authorization: Bearer <token from http.token_file>"])
                }
                guard let o = box.current else { return notReady }
                let id = c.parameters.get("id") ?? ""
                let control = QueueControl(config: o.ctx.config, ledger: o.ctx.ledger, who: "api")
                do {
                    let lines = action == "retry" ? try control.retry(id) : try await control.cancel(id, adapters: o.adapters)
                    o.ctx.wakeup.ring()
                    return json(.ok, ["id": id, "done": lines])
                } catch let e as OmniError {
                    return json(.conflict, ["id": id, "error": e.code.rawValue, "message": e.message])
                }
            }
        }
    }

    /// `?limit=&offset=&state=&platform=` on a list.
    struct Page {
        var limit: Int
        var offset: Int
        var state: String?
        var platform: String?
        init(_ req: Request) {
            let q = req.uri.queryParameters
            limit = min(1000, max(1, Int(q["limit"].map(String.init) ?? "") ?? 100))
            offset = max(0, Int(q["offset"].map(String.init) ?? "") ?? 0)
            state = q["state"].map(String.init)
            platform = q["platform"].map(String.init)
        }
        func slice(_ all: [Any]) -> [String: Any] {
            let page = all.dropFirst(offset).prefix(limit)
            return ["items": Array(page), "total": all.count, "offset": offset, "limit": limit]
        }
    }
}

/// `/readyz`: the ledger takes a write, ffmpeg and ffprobe are there, every inbox is watched, the disk
/// has room.
enum Readiness {
    struct Check { var name: String; var ok: Bool; var detail: String }
    static let minimumFree: Int64 = 1 << 30

    static func check(_ ctx: PipelineContext, watcher: InboxWatcher) -> [Check] {
        var out: [Check] = []
        out.append(Check(name: "ledger", ok: ctx.ledger.canWrite(), detail: ctx.paths.ledger.path))
        for tool in ["ffmpeg", "ffprobe"] {
            let found = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
                .contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
            out.append(Check(name: tool, ok: found, detail: found ? "found" : "not on PATH"))
        }
        let inbox = FileManager.default.fileExists(atPath: ctx.paths.inbox.path)
        out.append(Check(name: "inbox", ok: inbox, detail: "\(ctx.paths.inbox.path) watched by \(watcher.mode.rawValue) (\(watcher.fsType))"))
        var st = statvfs()
        let free = statvfs(ctx.paths.work.path, &st) == 0 ? Int64(st.f_bavail) * Int64(st.f_frsize) : 0
        out.append(Check(name: "disk", ok: free >= minimumFree, detail: "\(free / 1_048_576) MiB free in \(ctx.paths.work.path)"))
        return out
    }
}
