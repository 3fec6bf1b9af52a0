import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import OmniPostPlatforms
import Testing

/// The listener's operator side after a real run: `/metrics` (Prometheus text that `promtool` accepts,
/// numbers equal to the ledger's), `/readyz`, the JSON API's pages and filters, and a mutation that
/// needs the bearer token — refused without it, done with it, through the same path as `omnipost retry`.
@Suite struct OperatorAPITests {
    static func get(_ url: String, token: String? = nil, method: HTTPMethod = .GET) async throws -> (Int, Data) {
        let r = try await response(url, token: token, method: method)
        return (r.status, r.body)
    }

    static func response(_ url: String, token: String? = nil, method: HTTPMethod = .GET) async throws -> (status: Int, headers: HTTPHeaders, body: Data) {
        var req = HTTPClientRequest(url: url)
        req.method = method
        if let token { req.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let r = try await HTTPClient.shared.execute(req, timeout: .seconds(30))
        return (Int(r.status.code), r.headers, Data(buffer: try await r.body.collect(upTo: 8 << 20)))
    }

    static func object(_ d: Data) throws -> [String: Any] { try #require(try JSONSerialization.jsonObject(with: d) as? [String: Any]) }

    /// `omnipost_deliveries{platform="x",state="published"} 1` → 1, for one metric line.
    static func value(_ text: String, _ prefix: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    static let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// `promtool check metrics` finds nothing to say (the suite installs promtool: Debian's prometheus).
    static func promtoolAccepts(_ metrics: Data, in dir: TempDir) throws {
        let promtool = try #require(promtool, "promtool is installed by make test (Debian's prometheus)")
        let f = dir.file("metrics-\(UUID().uuidString).txt")
        try metrics.write(to: f)
        let proc = Process()
        proc.executableURL = URL(fileURLWithPath: "/bin/sh")
        proc.arguments = ["-c", "\(promtool) check metrics < \(f.path) 2>&1"]
        let out = Pipe()
        proc.standardOutput = out
        try proc.run()
        let said = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        proc.waitUntilExit()
        #expect(proc.terminationStatus == 0, "promtool: \(said)")
    }

    /// Before the first drop: every series an alert rule names is there at 0; counts that only grow are
    /// counters (`_total`), levels are gauges; what is running and what it costs (`build_info`, `process_*`).
    @Test(.timeLimit(.minutes(2))) func metricsAreTypedAndPresentBeforeTheFirstEvent() async throws {
        let dir = try TempDir()
        // Two targets on one account (the channel and its Shorts), as the default test pipeline has.
        let config = try TestPipelines.config(root: dir.url, extra: "notify: {sinks: [{kind: ntfy, url: \"http://127.0.0.1:9/topic\", name: phone}]}")
        let p = try await Pipeline.open(config: config, logger: TestPipelines.logger, progress: .silent, embedding: TestPipelines.embedding)
        try await stopping(p) {
            let text = try MetricsExport.text(config: config, ledger: p.context.ledger, profiles: p.context.profiles)
            var types: [String: String] = [:]
            for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                types[String(parts[2])] = String(parts[3])
            }
            // A counter's name ends in _total, and a name that ends in _total is a counter.
            for (name, type) in types where !name.hasSuffix("_bucket") {
                #expect((type == "counter") == name.hasSuffix("_total"), "\(name) is a \(type)")
            }
            #expect(types["omnipost_watch_events_total"] == "counter" && types["omnipost_reloads_total"] == "counter" && types["omnipost_drops"] == "gauge")
            for series in [
                #"omnipost_drops{state="failed"}"#, #"omnipost_drops{state="archived"}"#, #"omnipost_queue_depth{gate="quota"}"#,
                #"omnipost_queue_depth{gate="breaker"}"#, #"omnipost_breaker_open{account="youtube:main"}"#,
                #"omnipost_deliveries{platform="youtube",state="failed"}"#, #"omnipost_reloads_total{outcome="refused"}"#,
                #"omnipost_alerts_pending{sink="phone"}"#, #"omnipost_alerts_given_up_total{sink="phone"}"#, "omnipost_conversions_in_flight",
                #"omnipost_watch_events_total{kind="renamed"}"#
            ] {
                #expect(Self.value(text, series) == 0, "\(series) is there at 0")
            }
            #expect(Self.value(text, #"omnipost_build_info{version="\#(Product.version)"}"#) == 1)
            #expect((Self.value(text, "process_resident_memory_bytes") ?? 0) > 1_000_000 && (Self.value(text, "process_open_fds") ?? 0) > 3)
            #expect((Self.value(text, "process_cpu_seconds_total") ?? 0) > 0 && (Self.value(text, "process_max_fds") ?? 0) >= (Self.value(text, "process_open_fds") ?? 1))
            let started = try #require(Self.value(text, "process_start_time_seconds"))
            #expect(abs(started - Date().timeIntervalSince1970) < 86_400 * 7, "a start time in Unix seconds, not ticks: \(started)")
            try Self.promtoolAccepts(Data(text.utf8), in: dir)
        }
    }

    @Test(.timeLimit(.minutes(3))) func metricsReadinessTheAPIAndATokenGuardedRetry() async throws {
        let dir = try TempDir()
        let token = "operator-token-0123456789"
        chmod(try dir.write("token", token + "\n").path, 0o600)
        let config = try TestPipelines.config(
            root: dir.url, extra: "http: {listen: \"127.0.0.1:0\", token_file: \(dir.url.path)/token, loopback_reads: open}",
            targets: "targets: [youtube:main, x:main]")
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "good", sidecar: "title: good\nprivacy: public\n", into: config)
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "bad", sidecar: "titel: typo\n", into: config)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let base = "http://127.0.0.1:\(try #require(p.listener).port)"
            let ledger = p.context.ledger

            // /metrics: Prometheus text, equal to the ledger.
            let (ms, mbody) = try await Self.get(base + "/metrics")
            let metrics = String(decoding: mbody, as: UTF8.self)
            #expect(ms == 200 && metrics.contains("# TYPE omnipost_deliveries gauge"))
            #expect(Self.value(metrics, #"omnipost_deliveries{platform="youtube",state="published"}"#) == 1, "\(metrics.prefix(1500))")
            #expect(Self.value(metrics, #"omnipost_drops{state="failed"}"#) == 1 && Self.value(metrics, #"omnipost_drop_reasons{reason="unknown_key"}"#) == 1)
            let sent = try ledger.allDeliveries().filter { $0.platform == "x" }.reduce(0) { $0 + $1.bytesSent }
            #expect(Self.value(metrics, #"omnipost_uploaded_bytes_total{platform="x"}"#) == Double(sent) && sent > 0)
            #expect(metrics.contains(#"omnipost_upload_duration_seconds_count{platform="youtube"} 1"#))
            #expect(metrics.contains(#"omnipost_stage_duration_seconds_count{stage="validate"}"#))
            try Self.promtoolAccepts(mbody, in: dir)

            // /readyz: every check named, all passing.
            let (rs, rbody) = try await Self.get(base + "/readyz")
            let ready = try Self.object(rbody)
            #expect(rs == 200 && ready["ready"] as? Bool == true, "\(ready)")
            #expect(Set((ready["checks"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }) == ["ledger", "heartbeat", "ffmpeg", "ffprobe", "inbox", "disk"])

            // The JSON API: filtered, paged, a drop's own page.
            let failed = try Self.object(try await Self.get(base + "/api/v1/drops?state=failed").1)
            let items = failed["items"] as? [[String: Any]] ?? []
            #expect(failed["total"] as? Int == 1 && items.first?["reason_code"] as? String == "unknown_key", "\(failed)")
            let badID = try #require(items.first?["id"] as? String)
            let one = try Self.object(try await Self.get(base + "/api/v1/drops/\(badID)").1)
            #expect((one["events"] as? [[String: Any]])?.isEmpty == false && (one["drop"] as? [String: Any])?["reason_location"] != nil)
            let page = try Self.object(try await Self.get(base + "/api/v1/deliveries?platform=x&limit=1").1)
            #expect(page["total"] as? Int == 1 && (page["items"] as? [[String: Any]])?.first?["state"] as? String == "published")
            let ev = try Self.object(try await Self.get(base + "/api/v1/events?limit=3").1)
            let after = try #require(ev["next_after"] as? Int)
            let ev2 = try Self.object(try await Self.get(base + "/api/v1/events?limit=3&after=\(after)").1)
            #expect((ev2["items"] as? [[String: Any]])?.first?["id"] as? Int == after + 1, "\(ev2)")
            #expect(try await Self.get(base + "/api/v1/drops/no-such").0 == 404)
            // What the API cannot answer as asked is refused with a sentence, never silently changed.
            for (query, says) in [
                ("/api/v1/drops?limit=0", "limit must be a whole number from 1 to 1000, not '0'"),
                ("/api/v1/drops?limit=5000", "not '5000'"), ("/api/v1/deliveries?limit=ten", "not 'ten'"),
                ("/api/v1/drops?offset=-1", "offset must be a whole number 0 or more, not '-1'"),
                ("/api/v1/drops?state=faild", "state 'faild' is not one of"), ("/api/v1/deliveries?state=done", "state 'done' is not one of"),
                ("/api/v1/events?limit=0", "limit must be")
            ] {
                let (status, body) = try await Self.get(base + query)
                let o = try Self.object(body)
                #expect(status == 400 && o["error"] as? String == "invalid_value" && (o["message"] as? String)?.contains(says) == true, "\(query): \(status) \(o)")
            }
            for path in ["/api/v1/queue", "/api/v1/quotas", "/api/v1/accounts"] { #expect(try await Self.get(base + path).0 == 200, "\(path)") }

            // A mutation: refused without the token and with a wrong one; done with it — the failed drop's originals go back to the inbox.
            let unsigned = try await Self.response(base + "/api/v1/retry/\(badID)", method: .POST)
            #expect(unsigned.status == 401 && unsigned.headers.first(name: "WWW-Authenticate")?.hasPrefix("Bearer") == true, "\(unsigned.headers)")
            #expect(try await Self.get(base + "/api/v1/retry/\(badID)", token: "wrong-token-0123456789", method: .POST).0 == 401)
            let (ok, body) = try await Self.get(base + "/api/v1/retry/\(badID)", token: token, method: .POST)
            #expect(ok == 200, "\(String(decoding: body, as: UTF8.self))")
            #expect(FileManager.default.fileExists(atPath: config.paths.inbox.appendingPathComponent("bad.yaml").path))
            // An id the ledger does not hold is 404 (unknown_id); one it holds in a state that refuses is 409.
            for action in ["cancel", "retry"] {
                let none = try await Self.get(base + "/api/v1/\(action)/no-such-drop", token: token, method: .POST)
                let said = try Self.object(none.1)
                #expect(none.0 == 404 && said["error"] as? String == "unknown_id", "\(action)")
            }
            let archived = try Self.object(try await Self.get(base + "/api/v1/drops?state=archived").1)["items"] as? [[String: Any]] ?? []
            let done = try #require(archived.first?["id"] as? String)
            #expect(try await Self.get(base + "/api/v1/cancel/\(done)", token: token, method: .POST).0 == 409)
            // docs/openapi.yaml documents exactly what is served; each documented GET answers.
            let doc = try YAMLDocument.parse(
                try String(contentsOf: PipelineConfigTests.repoRoot.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8),
                file: "openapi.yaml", syntaxCode: .configSyntax, invalidCode: .configInvalid)
            var documented = Set<String>()
            for (path, ops) in try #require(try doc.mapping()["paths"]).mapping() {
                for (method, _) in try ops.mapping() { documented.insert("\(method) \(path)") }
            }
            #expect(
                documented == Set(OperatorRoutes.paths.map { "\($0.method) \($0.path)" }),
                "\(documented.symmetricDifference(Set(OperatorRoutes.paths.map { "\($0.method) \($0.path)" })))")
            for (method, path) in OperatorRoutes.paths where method == "get" {
                #expect(try await Self.get(base + path.replacingOccurrences(of: "{id}", with: badID)).0 == 200, "\(path)")
            }
        }
    }
}
