import Foundation
import OmniPostCore
import OmniPostPlatforms
import Testing

/// Several `omnipost run` daemons on one inbox and one PostgreSQL ledger (issue 27), as `SeveralHostsTests`
/// and `SeveralHostsCrashTests` run them: one sandbox (a process of its own, outliving every daemon), one
/// root (inbox, archive, failed), one pipeline per host differing only in `host:`, distinct clips with
/// sidecars in the inbox — and the checks both make afterwards: the sandbox's posts per account and
/// clip (duplicates), the archive (lost, filed twice) and the ledger's rows.
final class SeveralHostsRig: @unchecked Sendable {  // set up once, then read
    static let hosts = ["h1", "h2", "h3"]
    /// Quick, API-driven targets with resumable chunked uploads of different kinds.
    static let names = ["youtube", "tiktok", "x", "linkedin", "vimeo"]
    static let modules = PlatformRegistry.platforms.filter { names.contains($0.descriptor.name) }

    let dir: TempDir
    let sandbox: CrashTests.Child
    let base: String
    let root: URL
    let inbox: URL
    let pipelines: [URL]
    /// Each clip's name in the inbox and its sha256.
    let originals: [String: String]
    let clips: Int
    let server: PostgresServer
    let database: String

    var deliveries: Int { clips * Self.names.count }

    /// Everything up to the daemons: the sandbox (each chunk PUT held `putDelayMs`), accounts, pipelines, clips.
    init(server: PostgresServer, database: String, clips: Int, putDelayMs: Int) async throws {
        #expect(Self.modules.count == Self.names.count)
        self.server = server
        self.database = database
        self.clips = clips
        let dir = try TempDir()
        self.dir = dir
        let sandboxLog = dir.file("sandbox.log")
        sandbox = try CrashTests.Child(
            ["sandbox", "--port", "0", "--root", dir.file("sandbox").path, "--put-delay-ms", "\(putDelayMs)"], log: sandboxLog)
        let line = try await offPool { try CrashTests.waitForLine(sandboxLog, containing: "listening on") }
        let base = String(line[line.range(of: "http://")!.lowerBound...]).trimmingCharacters(in: .whitespaces)
        self.base = base

        root = dir.file("p")
        try FileManager.default.createDirectory(at: dir.file("destinations"), withIntermediateDirectories: true)
        var accounts: [String] = []
        for module in Self.modules {
            let d = module.descriptor
            var a = AccountConfig(
                key: "\(d.name):main", platform: d.name, clientID: "hosts-\(d.name)", clientSecret: "hosts-secret", refreshToken: "rt-\(d.name)",
                endpoint: "", tokenURL: "")
            let grants = module.useSandbox(&a, base: base, root: dir.file("destinations"))
            try await CrashTests.send(
                base + "/sandbox/accounts",
                ["platform": d.name, "name": "main", "client_id": a.clientID, "client_secret": a.clientSecret, "refresh_token": a.refreshToken])
            for g in grants { try await CrashTests.send(base + "/sandbox/grants", ["platform": g.platform, "account": g.account, "credentials": g.credentials]) }
            accounts.append("  " + CrashTests.yaml(a, d))
        }
        var pipelines: [URL] = []
        for host in Self.hosts {
            pipelines.append(
                try dir.write(
                    "pipeline-\(host).yaml",
                    """
                    version: 1
                    name: hosts
                    host: \(host)
                    root: \(root.path)
                    ledger: {url: '\(server.url(database))', password_file: '\(server.passwordFile.path)', pool_size: 4}
                    watch: {mode: inotify, settle: 200ms}
                    sidecar: {grace: 5s}
                    upload: {chunk_size: 256KiB, concurrency: 2, ca_file: "\(dir.file("sandbox/tls/ca.pem").path)"}
                    quotas:
                      youtube: [{name: upload_units, limit: 1000000, cost: 1600, window: day, zone: America/Los_Angeles}]
                      tiktok: [{name: posts, limit: 1000, window: 24h}]
                    targets:
                    \(Self.names.map { "  - \($0):main" }.joined(separator: "\n"))
                    accounts:
                    \(accounts.joined(separator: "\n"))
                    """))
        }
        self.pipelines = pipelines
        // Distinct clips of ~1.5 MiB: one encode, a different `free` box on each (6 chunks of 256 KiB).
        let clip = try Clips.make(width: 540, height: 960, seconds: 4, extra: ["-crf", "20", "-movflags", "+faststart"])
        let bytes = try Data(contentsOf: clip)
        inbox = root.appendingPathComponent("inbox")
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
        var originals: [String: String] = [:]
        let padding = max(0, 1_500_000 - bytes.count)
        for i in 0..<clips {
            var b = bytes
            let payload = Array("several-hosts-clip-\(i)".utf8) + [UInt8](repeating: UInt8(i), count: padding)
            let size = UInt32(8 + payload.count)
            b.append(contentsOf: [UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff)] + Array("free".utf8) + payload)
            try Data("title: hosts \(i)\nprivacy: public\ntags: [hosts]\n".utf8).write(to: inbox.appendingPathComponent("c\(i).yaml"))
            try b.write(to: inbox.appendingPathComponent("c\(i).mp4"))
            originals["c\(i).mp4"] = FileHashing.sha256(data: b)
        }
        self.originals = originals
    }

    deinit { sandbox.kill9() }

    /// Host `i`'s daemon, its output appended to its log (a restarted daemon's too).
    func daemon(_ i: Int) throws -> CrashTests.Child {
        try CrashTests.Child(["run", pipelines[i].path], log: dir.file("daemon-\(Self.hosts[i]).log"))
    }

    /// One psql answer, trimmed ("" when the server does not answer).
    func sql(_ q: String) -> String { ((try? server.psql(q, database: database)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }

    /// Whether every drop is archived and every delivery published.
    func settled() async throws -> Bool {
        try await offPool { [self] in
            sql("SELECT (SELECT COUNT(*) FROM drops WHERE state = 'archived') || '|' || (SELECT COUNT(*) FROM deliveries WHERE state = 'published')")
        } == "\(clips)|\(deliveries)"
    }

    /// Waits until `settled()`, `within` seconds pass, or a daemon not `down` has exited; whether it settled.
    func waitSettled(_ daemons: [CrashTests.Child], down: (Int) -> Bool, within: TimeInterval) async throws -> Bool {
        let deadline = Date().addingTimeInterval(within)
        while Date() < deadline {
            if try await settled() { return true }
            if daemons.indices.contains(where: { !down($0) && !daemons[$0].process.isRunning }) { return false }
            try await Task.sleep(for: .milliseconds(500))
        }
        return false
    }

    /// SIGTERM to every daemon still running, and up to 30 s for them to stop.
    func stop(_ daemons: [CrashTests.Child]) async throws {
        for d in daemons where d.process.isRunning { d.process.terminate() }
        let stopEnd = Date().addingTimeInterval(30)
        while daemons.contains(where: { $0.process.isRunning }) && Date() < stopEnd { try await Task.sleep(for: .milliseconds(100)) }
    }

    /// The last lines of each host's log, for a failure's message.
    func logs(lines: Int = 25) -> String {
        Self.hosts.map { h in
            "--- \(h):\n" + (((try? String(contentsOf: dir.file("daemon-\(h).log"), encoding: .utf8)) ?? "").split(separator: "\n").suffix(lines).joined(separator: "\n"))
        }.joined(separator: "\n")
    }

    /// Each drop's state and its deliveries', for a failure's message.
    func states() async throws -> String {
        try await offPool { [self] in
            sql(
                "SELECT d.stem || ' ' || d.state || ' ' || COALESCE(string_agg(v.target || '=' || v.state, ','), '') FROM drops d LEFT JOIN deliveries v ON v.drop_id = d.id GROUP BY d.id, d.stem, d.state ORDER BY d.stem"
            )
        }
    }

    /// Exactly once per target, by the sandbox's records of published posts: each clip's bytes once per
    /// account. Expects it, and returns the posts and the duplicates.
    func checkPostedOnce() async throws -> (posts: Int, duplicates: Int) {
        let listing = try await RawHTTP.send(base + "/sandbox/videos", .GET)
        let videos = try #require((try JSONSerialization.jsonObject(with: listing.body) as? [String: Any])?["videos"] as? [[String: Any]])
        var perKey: [String: Int] = [:]
        for v in videos { perKey["\(v["account"] ?? "")|\(v["sha256"] ?? "")", default: 0] += 1 }
        let duplicates = perKey.values.filter { $0 > 1 }.reduce(0) { $0 + $1 - 1 }
        #expect(duplicates == 0, "\(perKey.filter { $0.value > 1 })")
        #expect(videos.count == deliveries)
        for (name, sha) in originals.sorted(by: { $0.key < $1.key }) {
            for p in Self.names { #expect(perKey["\(p):main|\(sha)"] == 1, "\(name) on \(p)") }
        }
        return (videos.count, duplicates)
    }

    /// No file lost, none filed twice: each original once in archive/, byte-identical, and nothing left in
    /// the inbox or failed/. Returns the originals lost.
    func checkArchivedOnce() throws -> Int {
        let archived = files(under: root.appendingPathComponent("archive"))
        var lost = 0
        for (name, sha) in originals {
            let copies = archived.filter { $0.hasSuffix("/" + name) || $0 == name }
            #expect(copies.count == 1, "\(name) in archive/: \(copies)")
            guard let rel = copies.first,
                try FileHashing.sha256(path: root.appendingPathComponent("archive").appendingPathComponent(rel).path).hex == sha
            else {
                lost += 1
                continue
            }
        }
        #expect(lost == 0)
        #expect(archived.filter { $0.hasSuffix(".mp4") }.count == clips, "\(archived)")
        #expect(files(under: inbox).filter { !$0.hasPrefix(".") }.isEmpty, "\(files(under: inbox))")
        #expect(files(under: root.appendingPathComponent("failed")).isEmpty)
        return lost
    }

    /// The ledger's side: one drop per clip, each filed once (by one host, done), archived once, and each
    /// post's quota spent once (YouTube's and TikTok's rules name the delivery). Returns the filings per host.
    func checkLedgerOnce() async throws -> [(host: String, filings: Int)] {
        let (dropRows, filings, archivedEvents, spends, spentTwice, spendRows, youtubePublished) = try await offPool { [self] in
            (
                sql("SELECT clip_sha256 || ' ' || COUNT(*) FROM drops GROUP BY clip_sha256 ORDER BY 1"),
                sql("SELECT host || ' ' || COUNT(*) || ' ' || COUNT(done_at) FROM drop_filings GROUP BY host ORDER BY host"),
                sql("SELECT COUNT(*) || ' ' || COUNT(DISTINCT drop_id) FROM events WHERE stage <> 'upload' AND to_state = 'archived'"),
                // A post's spend names its delivery; a read of a post (post checks) spends without one.
                sql("SELECT COUNT(*) || ' ' || COUNT(DISTINCT delivery_id) FROM quota_spends WHERE account IN ('youtube:main', 'tiktok:main') AND delivery_id IS NOT NULL"),
                sql("SELECT COUNT(*) FROM (SELECT delivery_id FROM quota_spends WHERE delivery_id IS NOT NULL GROUP BY delivery_id, rule HAVING COUNT(*) > 1) twice"),
                sql("SELECT account || ' ' || rule || ' ' || units || ' ' || COALESCE(delivery_id::text, 'null') || ' ' || at FROM quota_spends ORDER BY id"),
                sql("SELECT COUNT(*) FROM deliveries WHERE target IN ('youtube:main', 'tiktok:main') AND state = 'published'")
            )
        }
        let drops = dropRows.split(separator: "\n")
        #expect(drops.count == clips && drops.allSatisfy { $0.hasSuffix(" 1") }, "one drop per clip: \(dropRows)")
        #expect(Set(originals.values) == Set(drops.map { String($0.split(separator: " ")[0]) }), "the drops are the clips")
        let filed = filings.split(separator: "\n").map { $0.split(separator: " ") }
        #expect(filed.reduce(0) { $0 + (Int($1[1]) ?? 0) } == clips, "one filing per drop: \(filings)")
        #expect(filed.allSatisfy { $0[1] == $0[2] }, "every filing done: \(filings)")
        #expect(archivedEvents == "\(clips) \(clips)", "archived once per drop (events): \(archivedEvents)")
        #expect(youtubePublished == "\(2 * clips)")
        // Once per post, a killed host's takeovers included: a quota is charged once per delivery (v20).
        #expect(spentTwice == "0", "no delivery spent a quota twice:\n\(spendRows)")
        #expect(spends == "\(2 * clips) \(2 * clips)", "one youtube and one tiktok quota spend per published delivery: \(spends)\n\(spendRows)")
        return filed.map { (String($0[0]), Int($0[1]) ?? 0) }
    }
}
