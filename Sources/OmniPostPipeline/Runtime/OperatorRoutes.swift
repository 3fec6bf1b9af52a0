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
    typealias Entry = (ctx: PipelineContext, watcher: InboxWatcher, adapters: [String: any PlatformAdapter])
    private let lock = NSLock()
    private var entries: [Entry] = []
    private var stop = false
    /// The dashboard's QR logins, one browser at a time for the whole listener.
    let logins = AccountLogins()
    /// Adds a pipeline, or replaces the one of the same name (a reload).
    func set(_ ctx: PipelineContext, _ watcher: InboxWatcher) {
        lock.lock(); defer { lock.unlock() }
        entries.removeAll { $0.ctx.config.name == ctx.config.name }
        entries.append((ctx, watcher, ctx.adapters))
    }
    /// Takes a closed pipeline away (only that one: a reload's new one may already be in).
    func remove(_ ctx: PipelineContext) { lock.lock(); entries.removeAll { $0.ctx.owner == ctx.owner }; lock.unlock() }
    var all: [Entry] { lock.lock(); defer { lock.unlock() }; return entries }
    /// The first pipeline: the only one, unless several share the listener.
    var current: Entry? { all.first }
    /// The pipeline a request names (`?pipeline=`), or the first.
    func pick(_ name: String?) -> Entry? {
        let list = all
        guard let name, !name.isEmpty else { return list.first }
        return list.first { $0.ctx.config.name == name }
    }
    func pick(_ req: Request) -> Entry? { pick(req.uri.queryParameters["pipeline"].map(String.init)) }
    /// The pipeline whose ledger holds this drop.
    func holding(drop id: String) -> Entry? { all.first { (try? $0.ctx.ledger.drop(id)) != nil } }
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
        ("get", "/api/v1/failures"), ("post", "/api/v1/acknowledge/{id}"), ("post", "/api/v1/approve/{id}"), ("post", "/api/v1/reject/{id}")
    ]

    static let notReady = Response(status: .serviceUnavailable, headers: [.contentType: "text/plain"], body: .init(byteBuffer: .init(string: "the pipeline is still opening\n")))

    static func json(_ status: HTTPResponse.Status = .ok, _ object: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data("{}".utf8)
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
        @Sendable func authorized(_ req: Request, _ c: OperatorContext) -> Bool {
            if access.bearer(req) { return true }
            if access.token != nil, req.headers[.authorization] != nil { access.failed(req, c, what: "bearer token") }
            return false
        }

        router.get("/metrics") { _, _ -> Response in
            let all = box.all
            guard !all.isEmpty else { return notReady }
            let text =
                try MetricsExport.text(all.map { ($0.ctx.config, $0.ctx.ledger, $0.ctx.profiles) })
                + "# HELP omnipost_auth_failures_total Wrong tokens presented to the listener since it started\n"
                + "# TYPE omnipost_auth_failures_total counter\n"
                + "omnipost_auth_failures_total \(access.throttle.failures)\n"
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: .init(string: text)))
        }
        router.get("/readyz") { _, _ -> Response in
            let all = box.all
            guard !all.isEmpty else { return notReady }
            // One pipeline: its checks by name; several: each named `pipeline/check`.
            let checks = all.flatMap { o in
                Readiness.check(o.ctx, watcher: o.watcher).map { c in
                    var c = c
                    if all.count > 1 { c.name = "\(o.ctx.config.name)/\(c.name)" }
                    return c
                }
            }
            return json(
                checks.allSatisfy(\.ok) ? .ok : .serviceUnavailable,
                ["ready": checks.allSatisfy(\.ok), "checks": checks.map { ["name": $0.name, "ok": $0.ok, "detail": $0.detail] }])
        }
        router.get("/api/v1/drops") { req, _ -> Response in
            guard let o = box.pick(req) else { return notReady }
            let p: Page
            do { p = try Page(req, states: DropState.allCases.map(\.rawValue)) } catch let e as OmniError { return refused(e) }
            var drops = try o.ctx.ledger.drops()
            if let s = p.state { drops = drops.filter { $0.state.rawValue == s } }
            // Oldest first, as the spec says (ids are names, not times).
            return json(.ok, p.slice(drops.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }.map { encodable($0) }))
        }
        router.get("/api/v1/drops/:id") { req, c -> Response in
            let id = c.parameters.get("id") ?? ""
            guard let o = box.holding(drop: id) ?? box.pick(req) else { return notReady }
            guard let d = try o.ctx.ledger.drops().first(where: { $0.id == id }) else {
                return json(.notFound, ["error": ReasonCode.unknownId.rawValue, "message": "there is no drop '\(id)'"])
            }
            return json(
                .ok,
                [
                    "drop": encodable(d), "deliveries": try o.ctx.ledger.deliveries(forDrop: id).map { encodable($0) },
                    "events": try o.ctx.ledger.events(forDrop: id).map { encodable($0) }
                ])
        }
        router.get("/api/v1/deliveries") { req, _ -> Response in
            guard let o = box.pick(req) else { return notReady }
            let p: Page
            do { p = try Page(req, states: DeliveryState.allCases.map(\.rawValue)) } catch let e as OmniError { return refused(e) }
            var ds = try o.ctx.ledger.allDeliveries()
            if let s = p.state { ds = ds.filter { $0.state.rawValue == s } }
            if let pl = p.platform { ds = ds.filter { $0.platform == pl } }
            return json(.ok, p.slice(ds.map { encodable($0) }))
        }
        router.get("/api/v1/queue") { req, _ -> Response in
            guard let o = box.pick(req) else { return notReady }
            let r = try StatusReport.gather(config: o.ctx.config, ledger: o.ctx.ledger, profiles: o.ctx.profiles, history: false)
            return json(.ok, ["items": r.queue.map { encodable($0) }])
        }
        router.get("/api/v1/quotas") { req, _ -> Response in
            guard let o = box.pick(req) else { return notReady }
            return json(.ok, ["items": try o.ctx.ledger.quotaUse(accounts: Array(o.ctx.config.accounts.keys), rules: o.ctx.profiles.quotas).map { encodable($0) }])
        }
        router.get("/api/v1/accounts") { req, _ -> Response in
            guard let o = box.pick(req) else { return notReady }
            let r = try StatusReport.gather(config: o.ctx.config, ledger: o.ctx.ledger, profiles: o.ctx.profiles, history: false)
            return json(.ok, ["items": r.accounts.map { encodable($0) }, "warnings": r.accountWarnings, "breakers": try o.ctx.ledger.breakers().map { encodable($0) }])
        }
        router.get("/api/v1/events") { req, _ -> Response in
            guard let o = box.pick(req) else { return notReady }
            let p: Page
            let q = req.uri.queryParameters
            let after: Int
            var since: Double? = nil
            do {
                p = try Page(req, states: nil)
                // `after` and `since` that do not read are refused like `limit`, not taken as 0 or left out.
                after = try Page.whole(q["after"].map(String.init), name: "after", range: 0...Int.max, default: 0)
                if let text = q["since"].map(String.init) {
                    guard let t = Double(text), t.isFinite else { throw OmniError(.invalidValue, "since must be a number of seconds since 1970, not '\(text)'") }
                    since = t
                }
            } catch let e as OmniError { return refused(e) }
            let events = try o.ctx.ledger.events(
                afterId: Int64(after), limit: p.limit + 1, drop: q["drop"].map(String.init),
                stage: q["stage"].map(String.init), since: since)
            return json(.ok, ["items": events.prefix(p.limit).map { encodable($0) }, "next_after": events.count > p.limit ? (events[p.limit - 1].id ?? 0) as Any : NSNull()])
        }
        router.get("/api/v1/failures") { req, _ -> Response in
            guard let o = box.pick(req) else { return notReady }
            let acknowledged: Bool
            switch req.uri.queryParameters["acknowledged"].map(String.init) {
            case nil, "false": acknowledged = false
            case "true": acknowledged = true
            case let other?: return refused(OmniError(.invalidValue, "acknowledged must be true or false, not '\(other)'"))
            }
            let list = try FailureList.gather(ledger: o.ctx.ledger)
            return json(.ok, ["items": (acknowledged ? list.acknowledged : list.open).map { encodable($0) }])
        }
        for action in ["retry", "cancel", "acknowledge", "approve", "reject"] {
            router.post("/api/v1/\(action)/:id") { req, c -> Response in
                if let held = access.heldBack(req, c) { return held }
                guard authorized(req, c) else {
                    var r = json(
                        .unauthorized,
                        [
                            "error": token == nil
                                ? "mutations need http.token_file set, and its token as a bearer token"
                                : "a bearer token is needed: Authorization: Bearer <token from http.token_file>"
                        ])
                    // RFC 6750: a 401 says which scheme it wants.
                    r.headers[.wwwAuthenticate] = "Bearer realm=\"omnipost\""
                    return r
                }
                let id = c.parameters.get("id") ?? ""
                // A drop is found in whichever pipeline holds it; a delivery number needs `?pipeline=` when several share the listener.
                guard let o = box.holding(drop: id) ?? box.pick(req) else { return notReady }
                if Int64(id) != nil, box.all.count > 1, req.uri.queryParameters["pipeline"] == nil {
                    return json(.badRequest, ["id": id, "error": "invalid_value", "message": "several pipelines share this listener: name one with ?pipeline="])
                }
                let control = o.ctx.control(who: "api")
                do {
                    let lines = try await control.perform(action, id, adapters: o.adapters)
                    o.ctx.wakeup.ring()
                    return json(.ok, ["id": id, "done": lines])
                } catch let e as OmniError {
                    // An id the ledger does not hold is 404; one it holds in a state that refuses this is 409.
                    return json(e.code == .unknownId ? .notFound : .conflict, ["id": id, "error": e.code.rawValue, "message": e.message])
                }
            }
        }
    }

    /// A query the API cannot answer as asked: 400 with its reason, never a silently changed answer.
    static func refused(_ e: OmniError) -> Response {
        json(.badRequest, ["error": e.code.rawValue, "message": e.message])
    }

    /// `?limit=&offset=&state=&platform=` on a list. A value out of range, or a state the list does not
    /// have, is refused (400 with a sentence): a client that asked for 5,000 or for `state=faild` learns so.
    struct Page {
        var limit: Int
        var offset: Int
        var state: String?
        var platform: String?
        init(_ req: Request, states: [String]?) throws {
            let q = req.uri.queryParameters
            limit = try Self.whole(q["limit"].map(String.init), name: "limit", range: 1...1000, default: 100)
            offset = try Self.whole(q["offset"].map(String.init), name: "offset", range: 0...Int.max, default: 0)
            state = q["state"].map(String.init)
            if let s = state, let states, !states.contains(s) {
                throw OmniError(.invalidValue, "state '\(s)' is not one of \(states.joined(separator: ", "))")
            }
            platform = q["platform"].map(String.init)
        }

        static func whole(_ text: String?, name: String, range: ClosedRange<Int>, default value: Int) throws -> Int {
            guard let text else { return value }
            guard let n = Int(text), range.contains(n) else {
                let bound = range.upperBound == Int.max ? "\(range.lowerBound) or more" : "from \(range.lowerBound) to \(range.upperBound)"
                throw OmniError(.invalidValue, "\(name) must be a whole number \(bound), not '\(text)'")
            }
            return n
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
        out.append(Check(name: "ledger", ok: ctx.ledger.canWrite(), detail: ctx.config.sharedLedger?.display ?? ctx.paths.ledger.path))
        // The heartbeat's word: a host that lost the ledger is not ready even if this one statement got through.
        let lost = ctx.hostHealth.lost
        out.append(Check(name: "heartbeat", ok: lost == nil, detail: lost?.reason ?? "\(ctx.config.host.name) beats every \(ctx.config.host.heartbeat)"))
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
