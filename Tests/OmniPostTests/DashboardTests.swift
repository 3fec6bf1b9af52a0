import AsyncHTTPClient
import Foundation
#if canImport(FoundationXML)
    import FoundationXML
#endif
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// The dashboard after a real run (one drop published, one failed at its sidecar): every page renders
/// with that data, the failure shows its `file:line:col` and the lines around it, no form changes
/// anything without a signed-in session and its CSRF value, and — in real headless Chromium — the
/// pages load nothing from elsewhere, the live stream connects, and Retry through the form puts the
/// failed drop's originals back in the inbox like `omnipost retry`.
@Suite struct DashboardTests {
    struct Answer { var status: Int; var headers: HTTPHeaders; var body: String }

    static func http(_ url: String, method: HTTPMethod = .GET, form: [String: String]? = nil, cookie: String? = nil) async throws -> Answer {
        var req = HTTPClientRequest(url: url)
        req.method = method
        if let cookie { req.headers.add(name: "Cookie", value: cookie) }
        if let form {
            req.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            let body = form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
            req.body = .bytes(ByteBuffer(string: body))
        }
        let r = try await Self.client.execute(req, timeout: .seconds(30))
        return Answer(status: Int(r.status.code), headers: r.headers, body: String(buffer: try await r.body.collect(upTo: 8 << 20)))
    }

    /// Redirects are looked at, not followed. Static: it lives as long as the test process.
    static let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    static let artifacts = PipelineConfigTests.repoRoot.appendingPathComponent(".build/test-artifacts/dashboard")
    static let chromium = FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")

    @Test(.timeLimit(.minutes(4))) func pagesFormsAndARetryInChromium() async throws {
        let dir = try TempDir()
        let token = "dashboard-token-0123456789"
        chmod(try dir.write("token", token + "\n").path, 0o600)
        let config = try TestPipelines.config(
            root: dir.url,
            extra: """
                http: {listen: "127.0.0.1:0", token_file: \(dir.url.path)/token, loopback_reads: open}
                accounts:
                  folder:nas: {path: "\(dir.file("nas").path)"}
                """,
            targets: "targets: [youtube:main, x:main, folder:nas]")
        // Another clip than the failed drop's: the same clip published later would take that failure off the to-do list.
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1.1), as: "good", sidecar: "title: good one\nprivacy: public\n", into: config)
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "bad", sidecar: "title: a typo below\nprivacy: public\ntitel: typo\n", into: config)
        // A second failure, which the browser acknowledges.
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1.2), as: "noted", sidecar: "title: noted\nprivcy: public\n", into: config)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let base = "http://127.0.0.1:\(try #require(p.listener).port)"
            let bad = try #require(try p.context.ledger.drops(in: [.failed]).first { $0.stem == "bad" })
            let noted = try #require(try p.context.ledger.drops(in: [.failed]).first { $0.stem == "noted" })

            // Every page renders from the ledger, with headers that forbid loading anything from elsewhere.
            let overview = try await Self.http(base + "/")
            #expect(overview.status == 200 && overview.headers["Content-Security-Policy"].first?.contains("default-src 'none'") == true)
            #expect(overview.body.components(separatedBy: "<svg").count - 1 == 4, "four charts")
            #expect(overview.body.contains("youtube") && overview.body.contains("Today") && overview.body.contains("Disk"))
            let drop = try await Self.http(base + "/drops/\(bad.id)")
            #expect(drop.status == 200 && drop.body.contains("unknown_key"), "\(drop.body.prefix(2000))")
            #expect(
                drop.body.contains(bad.reasonLocation ?? "?") && drop.body.contains("3 | titel: typo") && drop.body.contains("<span class=\"caret\">    ^</span>"),
                "the sidecar's line is shown: \(drop.body)")
            let failures = try await Self.http(base + "/failures")
            #expect(failures.body.contains(bad.id) && !failures.body.contains("button class=\"retry\""), "no Retry button before signing in")
            // A folder destination keeps its settings in the pipeline file: not "no stored credentials".
            #expect(overview.body.contains("folder:nas") && overview.body.contains("a destination") && !overview.body.contains("no stored credentials"), "\(overview.body)")
            // A used-up quota is waiting (amber), not an error (red); one at 85 % a warning.
            let full = Ledger.QuotaUse(account: "tiktok:main", rule: "posts", used: 1, limit: 1, cost: 1, window: "24h", nextFitsAt: nil)
            let most = Ledger.QuotaUse(account: "youtube:main", rule: "upload_units", used: 85, limit: 100, cost: 1, window: "day", nextFitsAt: nil)
            let levels = DashboardViews(ctx: p.context, watcher: p.watcher).quotas([full, most])
            #expect(levels.map { $0["level"] as? String } == ["warn", "warn"] && levels[0]["full"] as? Bool == true && levels[1]["full"] as? Bool == false)
            let icon = try await Self.http(base + "/static/favicon.svg")
            #expect(icon.status == 200 && icon.headers["Content-Type"].first == "image/svg+xml" && icon.body.hasPrefix("<svg"))
            #expect(overview.body.contains("<link rel=\"icon\" href=\"/static/favicon.svg\""))
            for path in ["/accounts", "/posts", "/pipelines", "/login", "/static/style.css", "/static/live.js", "/drops"] {
                #expect(try await Self.http(base + path).status == 200, "\(path)")
            }
            #expect(try await Self.http(base + "/drops/no-such").status == 404)
            // Mustache escapes what the user wrote: a title or a reason can never become markup.
            #expect(!drop.body.contains("<script>alert"))

            // Forms change nothing without a session and its CSRF value.
            let inbox = config.paths.inbox.appendingPathComponent("bad.yaml").path
            #expect(try await Self.http(base + "/ui/retry", method: .POST, form: ["id": bad.id]).status == 403)
            let wrong = try await Self.http(base + "/login", method: .POST, form: ["token": "nope"])
            #expect(wrong.status == 401 && wrong.headers["Set-Cookie"].isEmpty)
            let signIn = try await Self.http(base + "/login", method: .POST, form: ["token": token, "back": "/failures"])
            #expect(signIn.status == 303 && signIn.headers["Location"].first == "/failures", "\(signIn.status) \(signIn.body.prefix(3000))")
            let setCookie = try #require(signIn.headers["Set-Cookie"].first)
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"))
            let cookie = String(setCookie.split(separator: ";")[0])
            #expect(try await Self.http(base + "/ui/retry", method: .POST, form: ["id": bad.id], cookie: cookie).status == 403, "no CSRF value")
            #expect(try await Self.http(base + "/ui/retry", method: .POST, form: ["id": bad.id, "csrf": "forged"], cookie: cookie).status == 403, "a wrong CSRF value")
            #expect(try await Self.http(base + "/ui/retry", method: .POST, form: ["id": bad.id, "csrf": "%zz%"], cookie: cookie).status == 403, "a malformed one")
            #expect(!FileManager.default.fileExists(atPath: inbox))
            let signedIn = try await Self.http(base + "/failures", cookie: cookie)
            #expect(signedIn.body.contains("button class=\"retry\""))
            // A `back` that leaves the listener is not followed.
            #expect(
                DashboardRoutes.localPath("//evil.example/x") == "/" && DashboardRoutes.localPath("https://evil.example") == "/"
                    && DashboardRoutes.localPath("/failures") == "/failures")

            // The live stream says hello with the newest event id.
            var req = HTTPClientRequest(url: base + "/live")
            req.method = .GET
            let live = try await HTTPClient.shared.execute(req, timeout: .seconds(10))
            #expect(live.headers["Content-Type"].first == "text/event-stream")
            var first = ""
            for try await chunk in live.body {
                first += String(buffer: chunk)
                if first.contains("\n\n") { break }
            }
            let lastEvent = try p.context.ledger.lastEventId()
            #expect(first.contains("event: hello") && first.contains("data: \(lastEvent)"), "\(first)")

            // Real Chromium: screenshots, nothing foreign, live refresh, sign-in and Retry through the form.
            guard Self.chromium, PythonServer.has("selenium") else {
                Issue.record("chromium, chromedriver or selenium missing: `make test` installs them")
                return
            }
            let shots = Self.artifacts
            try? FileManager.default.removeItem(at: shots)
            let r = try await offPool {
                try SandboxOfficialClientTests.run(
                    PipelineConfigTests.repoRoot.appendingPathComponent("Tests/clients/dashboard_browser.py").path,
                    [base, token, bad.id, shots.path, noted.id])
            }
            #expect(r["ok"] as? Bool == true, "\(r)")
            let pages = r["pages"] as? [String: [String: Any]] ?? [:]
            #expect(Set(pages.keys) == ["overview", "failures", "drop", "accounts", "pipelines", "history", "failures-signed-in"], "\(pages.keys)")
            for (name, page) in pages {
                #expect((page["foreign"] as? [Any])?.isEmpty == true, "\(name) loaded something from elsewhere: \(page["foreign"] ?? "")")
                #expect(FileManager.default.fileExists(atPath: shots.appendingPathComponent("\(name).png").path), "\(name).png")
            }
            #expect(pages["overview"]?["svg"] as? Int == 4)
            // Layout as a person sees it: no time wraps mid-value on any page; the banner sits inside the
            // content column; the icon is served as SVG.
            for (name, page) in pages {
                #expect((page["wrappedTimes"] as? [Any])?.isEmpty == true, "\(name): \(page["wrappedTimes"] ?? "")")
            }
            #expect((pages["drop"]?["times"] as? Int ?? 0) >= 3, "the drop page's times are <time> elements")
            #expect(r["saidInMain"] as? Bool == true)
            #expect(r["favicon"] as? String == "image/svg+xml", "\(r["favicon"] ?? "")")
            // The history page: in the nav, every drop, searched by name.
            let drops = try p.context.ledger.drops()
            #expect(r["historyRows"] as? Int == drops.count && r["navHistory"] as? String == "page", "\(r["historyRows"] ?? "") of \(drops.count)")
            #expect(r["searchByName"] as? [String] == ["bad"], "\(r["searchByName"] ?? "")")
            // Acknowledged in the browser: off the list, behind the filter, still in the ledger.
            #expect((r["ackSaid"] as? String)?.contains("acknowledged") == true && r["ackStillListed"] as? Int == 0 && r["ackBehindFilter"] as? Int == 1, "\(r)")
            #expect(try p.context.ledger.events(forDrop: noted.id).contains { $0.toState == "acknowledged" && $0.detail?.contains("dashboard") == true })
            #expect((pages["drop"]?["text"] as? String)?.contains("unknown_key") == true)
            #expect(pages["failures"]?["retryButtons"] as? Int == 0 && (pages["failures-signed-in"]?["retryButtons"] as? Int ?? 0) >= 1)
            #expect(r["live"] as? Bool == true, "the page's script connected to /live")
            #expect((r["wrongToken"] as? String)?.contains("not the token") == true)
            #expect((r["said"] as? String)?.contains("originals back in the inbox") == true, "\(r["said"] ?? "")")
            #expect(FileManager.default.fileExists(atPath: inbox), "Retry moved the originals back, as `omnipost retry` does")
            #expect(try p.context.ledger.events(forDrop: bad.id).contains { $0.toState == "retried" && $0.detail?.contains("dashboard") == true })
            let flags = (r["cookieFlags"] as? [[String: Any]])?.first { $0["name"] as? String == "omnipost_session" }
            #expect(flags?["httpOnly"] as? Bool == true && flags?["sameSite"] as? String == "Strict", "\(r["cookieFlags"] ?? "")")
        }
    }

    /// This machine's first IPv4 address that is not loopback: connecting to it, the daemon sees a peer
    /// that is not 127.0.0.1, as it would a NAS's other machines.
    static let outsideAddress: String? = {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(list) }
        for p in sequence(first: first, next: { $0.pointee.ifa_next }) {
            guard let a = p.pointee.ifa_addr, a.pointee.sa_family == UInt8(AF_INET) else { continue }
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            guard getnameinfo(a, socklen_t(MemoryLayout<sockaddr_in>.size), &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else { continue }
            let ip = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !ip.hasPrefix("127.") { return ip }
        }
        return nil
    }()

    @Test(.enabled(if: outsideAddress != nil), .timeLimit(.minutes(3))) func readsFromAnotherMachineNeedTheToken() async throws {
        let dir = try TempDir()
        let token = "outside-token-0123456789"
        chmod(try dir.write("token", token).path, 0o600)
        let config = try TestPipelines.config(
            root: dir.url, extra: "http: {listen: \"0.0.0.0:0\", token_file: \(dir.url.path)/token}",
            targets: "targets: [youtube:main]")
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let port = try #require(p.listener).port
            let outside = "http://\(try #require(Self.outsideAddress)):\(port)"
            #expect(try await Self.http(outside + "/healthz").status == 200)
            #expect(try await Self.http(outside + "/api/v1/drops").status == 401)
            #expect(try await Self.http(outside + "/metrics").status == 401)
            let page = try await Self.http(outside + "/failures")
            #expect(page.status == 303 && page.headers["Location"].first == "/login?back=/failures")
            #expect(try await Self.http(outside + "/login").status == 200)
            #expect(try await Self.http(outside + "/static/style.css").status == 200)
            var req = HTTPClientRequest(url: outside + "/api/v1/drops")
            req.headers.add(name: "Authorization", value: "Bearer \(token)")
            #expect(try await Self.client.execute(req, timeout: .seconds(10)).status == .ok)
            let signIn = try await Self.http(outside + "/login", method: .POST, form: ["token": token])
            let cookie = String(try #require(signIn.headers["Set-Cookie"].first).split(separator: ";")[0])
            #expect(try await Self.http(outside + "/failures", cookie: cookie).status == 200)
            // From this machine too, with a token set: a reverse proxy here would make everyone look local.
            #expect(try await Self.http("http://127.0.0.1:\(port)/api/v1/drops").status == 401)
            var proxied = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/drops")
            proxied.headers.add(name: "X-Forwarded-For", value: "203.0.113.9")
            #expect(try await Self.client.execute(proxied, timeout: .seconds(10)).status == .unauthorized)
        }
    }

    /// Two pipelines of one daemon naming the same `listen:` share one listener: one dashboard with a
    /// switcher, `/metrics` with a `pipeline` label, `/readyz` naming each, the API by `?pipeline=`;
    /// it stays up until the last of them closes. Different `http:` settings on one address are refused.
    @Test(.timeLimit(.minutes(3))) func pipelinesOfOneDaemonShareAListener() async throws {
        let dir = try TempDir()
        let port = try EmailAlertTests.freePort()
        func config(_ name: String, extra: String = "") throws -> PipelineConfig {
            var c = try TestPipelines.config(root: dir.file(name), extra: "http: {listen: \"127.0.0.1:\(port)\"\(extra)}", targets: "targets: [youtube:main]")
            c.name = name
            return c
        }
        let a = try config("alpha"), b = try config("beta")
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "bad", sidecar: "titel: typo\n", into: b)
        let pa = try await TestPipelines.runOnce(a)
        let pb = try await TestPipelines.runOnce(b)
        #expect(pa.listener === pb.listener && pa.listener?.port == port)
        let base = "http://127.0.0.1:\(port)"
        let metrics = try await Self.http(base + "/metrics").body
        #expect(metrics.contains(#"pipeline="alpha""#) && metrics.contains(#"pipeline="beta""#), "\(metrics.prefix(800))")
        let ready = try await Self.http(base + "/readyz").body
        #expect(ready.contains("alpha/ledger") && ready.contains("beta/inbox"), "\(ready)")
        let betaDrops = try await Self.http(base + "/api/v1/drops?pipeline=beta").body
        let alphaDrops = try await Self.http(base + "/api/v1/drops?pipeline=alpha").body
        #expect(betaDrops.contains("unknown_key") && !alphaDrops.contains("unknown_key"))
        let overview = try await Self.http(base + "/?pipeline=beta").body
        #expect(overview.contains("class=\"switch\" href=\"/?pipeline=alpha\"") && overview.contains("href=\"/failures?pipeline=beta\""), "\(overview.prefix(1500))")
        let bad = try #require(try pb.context.ledger.drops(in: [.failed]).first)
        let dropPage = try await Self.http(base + "/drops/\(bad.id)")
        #expect(dropPage.status == 200 && dropPage.body.contains("unknown_key"), "found in beta's ledger without naming it")
        // Another pipeline on the same address with other settings is refused, saying how to fix it.
        do {
            _ = try await HTTPListener.acquire(
                try config("gamma", extra: ", public_url: \"http://nas.example:1\"").http!, pipeline: "gamma", media: nil, logger: TestPipelines.logger)
            Issue.record("different http settings on one address were accepted")
        } catch let e as OmniError {
            #expect(e.message.contains("different `http:` settings"), "\(e.message)")
        }
        // One closes: the listener serves the other; the last closes: the port is free again.
        await pa.close()
        #expect(try await Self.http(base + "/readyz").body.contains("\"ledger\""))
        await pb.close()
        await #expect(throws: (any Error).self) { _ = try await Self.http(base + "/healthz") }
    }

    /// An account whose check failed is said once, on its own row (its health), not again among the
    /// warnings; a warning that names no account stays in the list.
    @Test(.timeLimit(.minutes(2))) func anAccountProblemIsListedOnce() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, extra: "http: {listen: \"127.0.0.1:0\"}", targets: "targets: [youtube:main, x:main]")
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            try p.context.ledger.recordAccountCheck(account: "x:main", ok: false, detail: "the refresh token was revoked (invalid_grant)")
            let base = "http://127.0.0.1:\(try #require(p.listener).port)"
            for path in ["/", "/accounts"] {
                let page = try await Self.http(base + path).body
                #expect(page.components(separatedBy: "the refresh token was revoked").count - 1 == 1, "\(path): \(page)")
                #expect(page.contains("check failed: the refresh token was revoked"))
            }
        }
    }

    @Test func chartsAreSVGWithTheirValues() throws {
        let svg = SVGChart.bars("Posts", [.init(label: "10:00", value: 3), .init(label: "11:00", value: nil), .init(label: "12:00", value: 7)], unit: "posts")
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>"))
        #expect(svg.components(separatedBy: "<rect").count - 1 == 2 && svg.contains("12:00: 7 posts") && svg.contains(">10<"), "a 10 top gridline for 7")
        let line = SVGChart.line("Rate", [.init(label: "a", value: 50), .init(label: "b", value: nil), .init(label: "c", value: 100)], unit: "%", fixedMax: 100)
        #expect(line.contains("<path class=\"line\" d=\"M") && line.components(separatedBy: " M").count == 2, "the gap starts a new stroke: \(line)")
        // Read as a browser would: the SVG parses, and the path's points are the dots' centres, the gap
        // starting a new stroke (a quoted number in `d` once ended the attribute and drew nothing).
        let parsed = try SVGShapes(line)
        #expect(parsed.paths.count == 1)
        let strokes = try #require(parsed.paths.first).strokes
        #expect(strokes.count == 2 && strokes.flatMap { $0 } == parsed.dots, "\(strokes) vs \(parsed.dots)")
        #expect(parsed.dots.count == 2 && parsed.dots[0].y > parsed.dots[1].y, "50 % sits lower than 100 %")
        // Each chart names its unit on the value axis.
        let bars = try SVGShapes(svg)
        #expect(parsed.texts.contains("%") && bars.texts.contains("posts"))
        #expect(SVGChart.bars("Empty", [], unit: "x").contains("no data yet"))
        #expect(SVGChart.esc("<a & \"b\">") == "&lt;a &amp; &quot;b&quot;&gt;")
        #expect(SVGChart.niceCeiling(7) == 10 && SVGChart.niceCeiling(130) == 200 && SVGChart.niceCeiling(0) == 1)
    }
}

/// What a browser would draw from an SVG: its paths (as strokes of points), its dots and its texts.
final class SVGShapes: NSObject, XMLParserDelegate {
    struct P: Equatable, CustomStringConvertible {
        var x: Double, y: Double
        var description: String { "(\(x), \(y))" }
    }
    struct Path { var strokes: [[P]] }
    private(set) var paths: [Path] = []
    private(set) var dots: [P] = []
    private(set) var texts: [String] = []
    private var inText = false
    private var failure: String?

    init(_ svg: String) throws {
        super.init()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = self
        guard parser.parse(), failure == nil else {
            throw OmniError(.internalError, "the SVG does not parse: \(failure ?? parser.parserError.map { "\($0)" } ?? "?")")
        }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes a: [String: String] = [:]) {
        switch name {
        case "path":
            // Path data: M and L commands, each with two bare numbers.
            var strokes: [[P]] = []
            // A command letter may touch its first number (`M112.7 70.0`), as SVG allows.
            let d = (a["d"] ?? "").replacingOccurrences(of: "M", with: "M ").replacingOccurrences(of: "L", with: "L ")
            var tokens = d.split(separator: " ").map(String.init)[...]
            while let cmd = tokens.popFirst() {
                guard cmd == "M" || cmd == "L", let x = tokens.popFirst().flatMap(Double.init), let y = tokens.popFirst().flatMap(Double.init) else {
                    failure = "path data \(a["d"] ?? "") is not M/L with numbers"
                    return
                }
                if cmd == "M" { strokes.append([]) }
                strokes[strokes.count - 1].append(P(x: x, y: y))
            }
            paths.append(Path(strokes: strokes))
        case "circle":
            guard let x = a["cx"].flatMap(Double.init), let y = a["cy"].flatMap(Double.init) else { failure = "a circle without numbers"; return }
            dots.append(P(x: x, y: y))
        case "text":
            inText = true
            texts.append("")
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { texts[texts.count - 1] += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { inText = false }
    }
}
