import Foundation
import Hummingbird
import Mustache
import NIOCore
import OmniPostCore
import OmniPostLedger

/// The dashboard: server-rendered HTML from the Mustache templates in `Resources/dashboard`, one
/// stylesheet, one small script for live refresh (server-sent events on `/live`), charts drawn as
/// SVG on the server. Reads are open from this machine; the Retry and Cancel forms need a signed-in
/// session and its CSRF value, and go through `QueueControl` like `omnipost retry`/`cancel`.
enum DashboardRoutes {
    /// The pages and form actions, for the docs and the tests.
    static let pages = ["/", "/drops", "/drops/{id}", "/failures", "/accounts", "/upload", "/pipelines", "/login"]

    /// No page loads anything from elsewhere, runs inline script, or can be framed.
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy:
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        .init("X-Content-Type-Options")!: "nosniff", .init("Referrer-Policy")!: "no-referrer", .cacheControl: "no-store"
    ]

    static func templates() async throws -> MustacheLibrary {
        guard let dir = Bundle.module.url(forResource: "dashboard", withExtension: nil) else {
            throw OmniError(.internalError, "the dashboard's templates are missing from this build")
        }
        return try await MustacheLibrary(directory: dir.path)
    }

    static func add(to router: Router<OperatorContext>, box: OperatorBox, access: OperatorAccess, library: MustacheLibrary) {
        let resources = Bundle.module.url(forResource: "dashboard", withExtension: nil)!
        let css = (try? Data(contentsOf: resources.appendingPathComponent("style.css"))) ?? Data()
        let js = (try? Data(contentsOf: resources.appendingPathComponent("live.js"))) ?? Data()
        let icon = (try? Data(contentsOf: resources.appendingPathComponent("favicon.svg"))) ?? Data()

        /// Renders a page with the layout's own values (pipeline, session, navigation) added.
        @Sendable func page(
            _ name: String, title: String, _ data: [String: Any], req: Request, nav: String? = nil, live: Bool = false,
            status: HTTPResponse.Status = .ok, shown: OperatorBox.Entry? = nil
        ) -> Response {
            var v = data
            v["title"] = title
            let chosen = shown ?? box.pick(req)
            let pipelineName = chosen?.ctx.config.name ?? ""
            v["pipeline"] = pipelineName
            // Several pipelines on one listener: a switcher, and every link and form keeps the choice.
            let all = box.all
            if all.count > 1 {
                v["switcher"] = all.map { ["name": $0.ctx.config.name, "current": $0.ctx.config.name == pipelineName] as [String: Any] }
                let escaped = pipelineName.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                v["q"] = "?pipeline=" + escaped
                v["qa"] = "&pipeline=" + escaped
            }
            v["version"] = Product.version
            v["now"] = isoStamp(Date())
            v["live"] = live
            if let csrf = access.session(req) { v["signedIn"] = true; v["csrf"] = csrf }
            if let nav { v["nav" + nav] = true }
            if let said = req.uri.queryParameters["said"], !said.isEmpty { v["said"] = String(said) }
            // The count beside Failures is the to-do list's: what later work published, or an operator acknowledged, is not in it.
            if let ledger = chosen?.ctx.ledger, let n = try? FailureList.gather(ledger: ledger).open.count, n > 0 { v["failureCount"] = n }
            let html = library.render(v, withTemplate: name) ?? "the \(name) template is missing"
            var headers = securityHeaders
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
        }
        @Sendable func views(_ req: Request) -> DashboardViews? { box.pick(req).map { DashboardViews(ctx: $0.ctx, watcher: $0.watcher) } }

        router.get("/static/style.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=300"], body: .init(byteBuffer: ByteBuffer(data: css)))
        }
        router.get("/static/live.js") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "max-age=300"], body: .init(byteBuffer: ByteBuffer(data: js)))
        }
        // The icon every page links to: a small SVG, served as one.
        router.get("/static/favicon.svg") { _, _ in
            Response(status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "max-age=86400"], body: .init(byteBuffer: ByteBuffer(data: icon)))
        }
        router.get("/") { req, _ -> Response in
            guard let v = views(req) else { return OperatorRoutes.notReady }
            return page("overview", title: "Overview", try v.overview(), req: req, nav: "Overview", live: true)
        }
        router.get("/drops/:id") { req, c -> Response in
            let id = c.parameters.get("id") ?? ""
            guard let o = box.holding(drop: id) ?? box.pick(req) else { return OperatorRoutes.notReady }
            guard let d = try DashboardViews(ctx: o.ctx, watcher: o.watcher).drop(id) else {
                return page("drop", title: "No such drop", ["missing": id], req: req, status: .notFound)
            }
            return page("drop", title: d["stem"] as? String ?? id, ["drop": d], req: req, live: true, shown: o)
        }
        router.get("/failures") { req, _ -> Response in
            guard let v = views(req) else { return OperatorRoutes.notReady }
            let acknowledged = ["1", "true", "yes"].contains(req.uri.queryParameters["acknowledged"].map(String.init) ?? "")
            return page("failures", title: "Failures", try v.failures(acknowledged: acknowledged), req: req, nav: "Failures", live: true)
        }
        router.get("/drops") { req, _ -> Response in
            guard let v = views(req) else { return OperatorRoutes.notReady }
            let q = req.uri.queryParameters
            return page("history", title: "Drops", try v.history(HistoryQuery(q.map { (String($0.key), String($0.value)) })), req: req, nav: "History")
        }
        router.get("/posts") { req, _ -> Response in
            guard let v = views(req) else { return OperatorRoutes.notReady }
            return page("posts", title: "Posts", try v.postsPage(), req: req, nav: "Posts")
        }
        router.get("/posts/:delivery") { req, c -> Response in
            guard let v = views(req) else { return OperatorRoutes.notReady }
            let id = c.parameters.get("delivery") ?? ""
            guard let n = Int64(id), let post = try v.postPage(n) else {
                return page("post", title: "No such post", ["missing": id], req: req, status: .notFound)
            }
            return page("post", title: "Post \(post["target"] as? String ?? id)", ["post": post], req: req, nav: "Posts")
        }
        router.get("/accounts") { req, _ -> Response in
            guard let v = views(req) else { return OperatorRoutes.notReady }
            let data = await v.withLogins(try v.accountsPage(), logins: box.logins)
            return page("accounts", title: "Accounts", data, req: req, nav: "Accounts")
        }
        // "Log in by QR code" for an account driven through its pages: the login runs in the daemon and
        // the Accounts page shows its QR code until the scan (AccountLogins).
        router.post("/ui/account-login") { req, c -> Response in
            let form = try await Self.form(req, c)
            guard access.mayPost(req, csrf: form["csrf"]) else { return refused() }
            guard let o = box.pick(form["pipeline"]) else { return OperatorRoutes.notReady }
            let key = form["account"] ?? ""
            let said: String
            if let account = try? o.ctx.config.account(key), BrowserLogin.applies(to: account) {
                let (config, ledger) = (o.ctx.config, o.ctx.ledger)
                let refusal = await box.logins.start(key: AccountLogins.key(pipeline: config.name, account: key)) { shown in
                    try await BrowserLogin.connect(config: config, account: account, ledger: ledger, timeout: AccountLogins.timeout, shown: shown, say: { _ in })
                }
                said = refusal.map { "\(key): \($0)" } ?? "\(key): opening its login page; scan the QR code below with the app"
            } else {
                said = "\(key) does not log in by QR code (only accounts published by driving their pages do)"
            }
            var back = URLComponents(string: "/accounts")!
            back.queryItems = (box.all.count > 1 ? [URLQueryItem(name: "pipeline", value: o.ctx.config.name)] : []) + [URLQueryItem(name: "said", value: said)]
            return Response(status: .seeOther, headers: [.location: back.string ?? "/accounts"])
        }
        BrowserDropRoutes.add(to: router, box: box, access: access) { req, o in
            let targets = o.ctx.config.targets.map { ["name": $0.name, "platform": $0.platform] }
            return page("upload", title: "Upload", ["targets": targets, "privacies": Privacy.allCases.map(\.rawValue)], req: req, nav: "Upload", shown: o)
        }
        router.get("/pipelines") { req, _ -> Response in
            guard let v = views(req) else { return OperatorRoutes.notReady }
            return page("pipelines", title: "Pipelines", v.pipelines(), req: req, nav: "Pipelines")
        }

        router.get("/login") { req, _ -> Response in
            page("login", title: "Sign in", ["back": localPath(req.uri.queryParameters["back"].map(String.init)), "noToken": access.token == nil], req: req)
        }
        router.post("/login") { req, c -> Response in
            if let held = access.heldBack(req, c) { return held }
            let form = try await Self.form(req, c)
            let back = localPath(form["back"])
            guard let s = access.signIn(with: form["token"] ?? "") else {
                if access.token != nil { access.failed(req, c, what: "sign-in") }
                return page("login", title: "Sign in", ["back": back, "wrong": access.token != nil, "noToken": access.token == nil], req: req, status: .unauthorized)
            }
            var r = Response(status: .seeOther, headers: [.location: back])
            r.headers[.setCookie] = access.cookie(s.id)
            return r
        }
        router.post("/logout") { req, c -> Response in
            let form = try await Self.form(req, c)
            guard access.mayPost(req, csrf: form["csrf"]) else { return refused() }
            access.signOut(req)
            var r = Response(status: .seeOther, headers: [.location: "/"])
            r.headers[.setCookie] = access.cookie(nil)
            return r
        }
        for action in ["retry", "cancel", "acknowledge", "approve", "reject"] {
            router.post("/ui/\(action)") { req, c -> Response in
                let form = try await Self.form(req, c)
                guard access.mayPost(req, csrf: form["csrf"]) else { return refused() }
                let id = form["id"] ?? ""
                guard let o = box.holding(drop: id) ?? box.pick(form["pipeline"]) else { return OperatorRoutes.notReady }
                let control = o.ctx.control(who: "dashboard")
                let said: String
                do {
                    let lines = try await control.perform(action, id, adapters: o.adapters)
                    o.ctx.wakeup.ring()
                    said = lines.joined(separator: "\n")
                } catch let e as OmniError {
                    said = "\(action) \(id): \(e.message)"
                }
                var back = URLComponents(string: localPath(form["back"])) ?? URLComponents()
                var items = (back.queryItems ?? []).filter { $0.name != "said" && $0.name != "pipeline" }
                if box.all.count > 1 { items.append(URLQueryItem(name: "pipeline", value: o.ctx.config.name)) }
                back.queryItems = items + [URLQueryItem(name: "said", value: said)]
                return Response(status: .seeOther, headers: [.location: back.string ?? "/"])
            }
        }

        // Server-sent events: `change` whenever the ledger has a new event, checked each second; a
        // comment every 15 s keeps proxies from closing the stream; each stream ends after 5 minutes
        // (the browser reconnects) or when the listener stops, so none outlives the daemon.
        router.get("/live") { req, _ -> Response in
            guard let ledger = box.pick(req)?.ctx.ledger else { return OperatorRoutes.notReady }
            var headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-store"]
            headers[.init("X-Accel-Buffering")!] = "no"
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { writer in
                    var last = (try? ledger.lastEventId()) ?? 0
                    try await writer.write(ByteBuffer(string: "retry: 3000\nevent: hello\ndata: \(last)\n\n"))
                    let end = ContinuousClock.now + .seconds(300)
                    var quiet = 0
                    while ContinuousClock.now < end, !box.stopping, !Task.isCancelled {
                        try await Task.sleep(for: .seconds(1))
                        let now = (try? ledger.lastEventId()) ?? last
                        if now != last {
                            last = now
                            quiet = 0
                            try await writer.write(ByteBuffer(string: "event: change\ndata: \(now)\n\n"))
                        } else {
                            quiet += 1
                            if quiet % 15 == 0 { try await writer.write(ByteBuffer(string: ": still here\n\n")) }
                        }
                    }
                    try await writer.finish(nil)
                })
        }
    }

    static func refused() -> Response {
        Response(
            status: .forbidden, headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: "refused: sign in (/login) and send the form from the dashboard; its CSRF value was missing or wrong\n")))
    }

    /// Only a path on this listener, so a form's `back` cannot send anyone elsewhere.
    /// Where a form may send the browser back to: a path on this site only. Browsers drop tabs and line
    /// breaks from a URL (and trim spaces and controls at its ends) before reading it, so `/\t/evil.example`
    /// is `//evil.example` to them: those are removed first, then only one `/` followed by something other
    /// than `/`, `\\` or whitespace is let through, and the path must not name a scheme.
    static func localPath(_ s: String?) -> String {
        guard let s else { return "/" }
        let cleaned = String(String.UnicodeScalarView(s.unicodeScalars.filter { $0 != "\t" && $0 != "\n" && $0 != "\r" }))
            .trimmingCharacters(in: CharacterSet(charactersIn: "\u{0}"..."\u{20}"))
        let scalars = Array(cleaned.unicodeScalars)
        guard scalars.first == "/" else { return "/" }
        if scalars.count > 1 {
            let second = scalars[1]
            if second == "/" || second == "\\" || CharacterSet.whitespacesAndNewlines.contains(second) || second.value < 0x20 { return "/" }
        }
        guard !cleaned.contains("\\"), !cleaned.contains("://"), !cleaned.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return "/" }
        return cleaned
    }

    /// An `application/x-www-form-urlencoded` body (at most the context's 64 KiB).
    static func form(_ req: Request, _ c: OperatorContext) async throws -> [String: String] {
        let body = try await req.body.collect(upTo: c.maxUploadSize)
        var out: [String: String] = [:]
        // By hand rather than URLComponents: a malformed escape must read as nothing, never trap.
        for pair in String(buffer: body).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            out[decode(kv[0])] = kv.count > 1 ? decode(kv[1]) : ""
        }
        return out
    }
}
