import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms
import Testing

/// Several daemons on one inbox (issue 27): three `omnipost run` processes, one pipeline each that differ
/// only in `host:`, share one root (inbox, archive, failed) and one PostgreSQL ledger, and publish to one
/// sandbox (a process of its own). Each clip is posted once per target, each original archived once,
/// each drop made and filed once, each post's quota spent once — and the work is shared: more than one host
/// claimed uploads.
@Suite(.serialized, .enabled(if: PostgresServer.available, "PostgreSQL is not installed (make test installs it)"))
struct SeveralHostsTests {
    static let binary = CheckCommandTests.binary
    static let hosts = ["h1", "h2", "h3"]
    static let clips = 8
    /// Quick, API-driven targets with resumable chunked uploads of different kinds.
    static let names = ["youtube", "tiktok", "x", "linkedin", "vimeo"]
    static let modules = PlatformRegistry.platforms.filter { names.contains($0.descriptor.name) }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)), .timeLimit(.minutes(6)))
    func threeDaemonsOnOneInboxPostEachClipOnceAndArchiveItOnce() async throws {
        try await Self.run(killOne: false)
    }

    /// One daemon SIGKILLed while it is uploading (after every drop is converted, before any is filed), not
    /// restarted: the other two take its uploads over once its leases lapse (three heartbeats, 30 s — an
    /// upload's claim used to run five minutes past its last beat) and finish everything, still once.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)), .timeLimit(.minutes(6)))
    func aDaemonKilledMidUploadLeavesItsWorkToTheOthers() async throws {
        try await Self.run(killOne: true)
    }

    static func run(killOne: Bool) async throws {
        #expect(Self.modules.count == Self.names.count)
        try await withPostgresDatabase { server, database in
            let started = Date()
            let dir = try TempDir()
            let sandboxLog = dir.file("sandbox.log")
            let sandbox = try CrashTests.Child(
                ["sandbox", "--port", "0", "--root", dir.file("sandbox").path, "--put-delay-ms", killOne ? "250" : "40"], log: sandboxLog)
            defer { sandbox.kill9() }
            let line = try await offPool { try CrashTests.waitForLine(sandboxLog, containing: "listening on") }
            let base = String(line[line.range(of: "http://")!.lowerBound...]).trimmingCharacters(in: .whitespaces)

            let root = dir.file("p")
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
            // 8 distinct clips of ~1.5 MiB: one encode, a different `free` box on each (6 chunks of 256 KiB).
            let clip = try Clips.make(width: 540, height: 960, seconds: 4, extra: ["-crf", "20", "-movflags", "+faststart"])
            let bytes = try Data(contentsOf: clip)
            let inbox = root.appendingPathComponent("inbox")
            try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
            var originals: [String: String] = [:]
            let padding = max(0, 1_500_000 - bytes.count)
            for i in 0..<Self.clips {
                var b = bytes
                let payload = Array("several-hosts-clip-\(i)".utf8) + [UInt8](repeating: UInt8(i), count: padding)
                let size = UInt32(8 + payload.count)
                b.append(contentsOf: [UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff)] + Array("free".utf8) + payload)
                try Data("title: hosts \(i)\nprivacy: public\ntags: [hosts]\n".utf8).write(to: inbox.appendingPathComponent("c\(i).yaml"))
                try b.write(to: inbox.appendingPathComponent("c\(i).mp4"))
                originals["c\(i).mp4"] = FileHashing.sha256(data: b)
            }

            // Three daemons, started together on the one inbox.
            var daemons: [CrashTests.Child] = []
            for (host, pipeline) in zip(Self.hosts, pipelines) {
                daemons.append(try CrashTests.Child(["run", pipeline.path], log: dir.file("daemon-\(host).log")))
            }
            defer { for d in daemons where d.process.isRunning { d.kill9() } }
            @Sendable func sql(_ q: String) -> String { ((try? server.psql(q, database: database)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
            let deliveries = Self.clips * Self.names.count
            // The kill: a host with an upload open, once every drop is converted and none is being filed (a
            // drop's own stage claims run five minutes; its uploads' leases three heartbeats).
            var killed: String? = nil
            if killOne {
                let aimEnd = Date().addingTimeInterval(90)
                while killed == nil && Date() < aimEnd {
                    let (converted, filings, holder) = try await offPool {
                        (
                            sql("SELECT COUNT(*) FROM drops WHERE state = 'converted'"), sql("SELECT COUNT(*) FROM drop_filings"),
                            sql("SELECT split_part(owner, ':', 1) FROM attempts WHERE outcome IS NULL ORDER BY id LIMIT 1")
                        )
                    }
                    if converted == "\(Self.clips)" && filings == "0", let i = Self.hosts.firstIndex(of: holder) {
                        daemons[i].kill9()
                        killed = holder
                    } else {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
                #expect(killed != nil, "no moment with every drop converted, none filed and an upload open")
            }
            let deadline = Date().addingTimeInterval(240)
            var settled = false
            while Date() < deadline {
                let done = try await offPool {
                    sql("SELECT (SELECT COUNT(*) FROM drops WHERE state = 'archived') || '|' || (SELECT COUNT(*) FROM deliveries WHERE state = 'published')")
                }
                if done == "\(Self.clips)|\(deliveries)" { settled = true; break }
                if zip(Self.hosts, daemons).contains(where: { $0.0 != killed && !$0.1.process.isRunning }) { break }
                try await Task.sleep(for: .milliseconds(500))
            }
            let seconds = Date().timeIntervalSince(started)
            for d in daemons where d.process.isRunning { d.process.terminate() }
            let stopEnd = Date().addingTimeInterval(30)
            while daemons.contains(where: { $0.process.isRunning }) && Date() < stopEnd { try await Task.sleep(for: .milliseconds(100)) }
            let logs = Self.hosts.map { h in "--- \(h):\n" + (((try? String(contentsOf: dir.file("daemon-\(h).log"), encoding: .utf8)) ?? "").split(separator: "\n").suffix(25).joined(separator: "\n")) }
            let states = try await offPool {
                sql("SELECT d.stem || ' ' || d.state || ' ' || COALESCE(string_agg(v.target || '=' || v.state, ','), '') FROM drops d LEFT JOIN deliveries v ON v.drop_id = d.id GROUP BY d.id, d.stem, d.state ORDER BY d.stem")
            }
            #expect(settled, "not every drop archived within 4 minutes:\n\(states)\n\(logs.joined(separator: "\n"))")
            for (h, d) in zip(Self.hosts, daemons) where h != killed {
                #expect(!d.process.isRunning, "\(h) did not stop on SIGTERM")
                if !d.process.isRunning { #expect(d.process.terminationStatus == 0, "\(h) exited \(d.process.terminationStatus):\n\(logs.joined(separator: "\n"))") }
            }

            // Exactly once per target: the sandbox's posts by account and the bytes it received.
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

            // No file lost, none filed twice: each original once in archive/, byte-identical; nothing left.
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
            #expect(archived.filter { $0.hasSuffix(".mp4") }.count == Self.clips, "\(archived)")
            #expect(files(under: inbox).filter { !$0.hasPrefix(".") }.isEmpty, "\(files(under: inbox))")
            #expect(files(under: root.appendingPathComponent("failed")).isEmpty)

            // The ledger: one drop per clip, each filed by one host, once; each post's quota spent once.
            let (dropRows, filings, archivedEvents, spends, spentTwice, spentTwiceElsewhere, spendRows, youtubePublished, claims, owners, orphaned) = try await offPool { [killed] in
                (
                    sql("SELECT clip_sha256 || ' ' || COUNT(*) FROM drops GROUP BY clip_sha256 ORDER BY 1"),
                    sql("SELECT host || ' ' || COUNT(*) || ' ' || COUNT(done_at) FROM drop_filings GROUP BY host ORDER BY host"),
                    sql("SELECT COUNT(*) || ' ' || COUNT(DISTINCT drop_id) FROM events WHERE stage <> 'upload' AND to_state = 'archived'"),
                    // A post's spend names its delivery; a read of a post (post checks) spends without one.
                    sql("SELECT COUNT(*) || ' ' || COUNT(DISTINCT delivery_id) FROM quota_spends WHERE account IN ('youtube:main', 'tiktok:main') AND delivery_id IS NOT NULL"),
                    sql("SELECT COUNT(*) FROM (SELECT delivery_id FROM quota_spends WHERE delivery_id IS NOT NULL GROUP BY delivery_id, rule HAVING COUNT(*) > 1) twice"),
                    // Spent again: only a delivery the killed host held before its platform session was recorded.
                    sql("SELECT COUNT(*) FROM (SELECT delivery_id FROM quota_spends WHERE delivery_id IS NOT NULL AND delivery_id NOT IN (SELECT delivery_id FROM attempts WHERE split_part(owner, ':', 1) = '\(killed ?? "")' AND outcome = 'interrupted') GROUP BY delivery_id, rule HAVING COUNT(*) > 1) twice"),
                    sql("SELECT account || ' ' || rule || ' ' || units || ' ' || COALESCE(delivery_id::text, 'null') || ' ' || at FROM quota_spends ORDER BY id"),
                    sql("SELECT COUNT(*) FROM deliveries WHERE target IN ('youtube:main', 'tiktok:main') AND state = 'published'"),
                    sql("SELECT split_part(owner, ':', 1) || ' ' || COUNT(*) FROM attempts GROUP BY split_part(owner, ':', 1) ORDER BY 1"),
                    sql("SELECT COUNT(*) FROM attempts WHERE outcome IS DISTINCT FROM 'published'"),
                    sql("SELECT COUNT(*) || ' ' || COUNT(*) FILTER (WHERE outcome = 'interrupted') FROM attempts WHERE split_part(owner, ':', 1) = '\(killed ?? "")' AND outcome IS DISTINCT FROM 'published'")
                )
            }
            let drops = dropRows.split(separator: "\n")
            #expect(drops.count == Self.clips && drops.allSatisfy { $0.hasSuffix(" 1") }, "one drop per clip: \(dropRows)")
            #expect(Set(originals.values) == Set(drops.map { String($0.split(separator: " ")[0]) }), "the drops are the clips")
            let filed = filings.split(separator: "\n").map { $0.split(separator: " ") }
            #expect(filed.reduce(0) { $0 + (Int($1[1]) ?? 0) } == Self.clips, "one filing per drop: \(filings)")
            #expect(filed.allSatisfy { $0[1] == $0[2] }, "every filing done: \(filings)")
            #expect(archivedEvents == "\(Self.clips) \(Self.clips)", "archived once per drop (events): \(archivedEvents)")
            #expect(youtubePublished == "\(2 * Self.clips)")
            if killed == nil {
                #expect(spentTwice == "0", "no delivery spent a quota twice:\n\(spendRows)")
                #expect(spends == "\(2 * Self.clips) \(2 * Self.clips)", "one youtube and one tiktok quota spend per published delivery: \(spends)\n\(spendRows)")
            } else {
                // Known, not fixed here: an upload taken over before the dead host recorded its platform
                // session is a new upload to the claim, and spends its quota again (counted in the summary).
                #expect(spentTwiceElsewhere == "0", "no delivery but the killed host's spent a quota twice:\n\(spendRows)")
                #expect(spends.hasSuffix(" \(2 * Self.clips)"), "every published youtube and tiktok delivery spent: \(spends)\n\(spendRows)")
            }
            let perHost = claims.split(separator: "\n").map { $0.split(separator: " ") }
            #expect(perHost.reduce(0) { $0 + (Int($1[1]) ?? 0) } >= deliveries, "\(claims)")
            #expect(perHost.filter { (Int($0[1]) ?? 0) > 0 }.count >= 2, "the work was shared: uploads claimed per host: \(claims)")
            if let killed {
                // Every upload the killed host left open ended as interrupted (taken over), none stayed open.
                let o = orphaned.split(separator: " ")
                #expect(o.count == 2 && o[0] != "0" && o[0] == o[1], "\(killed)'s unfinished attempts (all, interrupted): \(orphaned)")
            }
            print(
                "several hosts\(killed.map { " (\($0) SIGKILLed mid-upload; its open uploads taken over: \(orphaned.split(separator: " ").last ?? ""), quota spent again on them: \(spentTwice))" } ?? ""): \(Self.hosts.count) daemons on one inbox, \(Self.clips) clips × \(Self.names.count) targets; deliveries: \(videos.count); attempts per host: \(perHost.map { "\($0[0]) \($0[1])" }.joined(separator: ", ")) (\(owners) not published); filings per host: \(filed.map { "\($0[0]) \($0[1])" }.joined(separator: ", ")); duplicates: \(duplicates); lost: \(lost); \(String(format: "%.1f", seconds)) s"
            )
        }
    }
}
