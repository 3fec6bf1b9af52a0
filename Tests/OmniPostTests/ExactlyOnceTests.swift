import AsyncHTTPClient
import Foundation
import OmniPostCore
@testable import OmniPostLedger
import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Issue 9, "exactly once against a server nobody here wrote": single-flight refresh under strict
/// rotation and a real network's delay, TikTok's chunk arithmetic for every size, status polling
/// inside the per-token limit, init rate charged when sent, and a session-holding delivery that is
/// never failed or re-sent on a credentials error. Plus the crash quarantine.
@Suite(.serialized) struct ExactlyOnceTests {
    static let mib: Int64 = 1_048_576

    /// Ten callers whose token is due, a token endpoint 250 ms away that rotates strictly: one refresh.
    @Test func concurrentRefreshesAreOneRequest() async throws {
        let dir = try TempDir()
        let s = SandboxServer(root: dir.file("sandbox"))
        try await s.start()
        try await stopping(s) {
            await s.state.setFaults(.init(strictRotation: true, tokenDelayMs: 250))
            await s.registerAccount(platform: "tiktok", name: "brand", clientID: "key", clientSecret: "sec", refreshToken: "rt-0")
            let account = AccountConfig(
                key: "tiktok:brand", platform: "tiktok", clientID: "key", clientSecret: "sec", refreshToken: "rt-0",
                endpoint: s.baseURL, tokenURL: s.baseURL + "/v2/oauth/token/")
            let store = MemoryTokenStore()
            let tokens = TokenProvider(account: account, http: HTTPClient.shared, store: store)
            let got = try await withThrowingTaskGroup(of: String.self) { g in
                for _ in 0..<10 { g.addTask { try await tokens.accessToken() } }
                return try await g.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(Set(got).count == 1)
            #expect(await s.state.requestCounts["tiktok.token"] == 1)
            // A 401 for the token everyone holds, seen by three requests at once: still one refresh.
            let old = got[0]
            await s.state.expireAccessTokens()
            await withTaskGroup(of: Void.self) { g in for _ in 0..<3 { g.addTask { await tokens.invalidate(rejected: old) } } }
            let again = try await withThrowingTaskGroup(of: String.self) { g in
                for _ in 0..<5 { g.addTask { try await tokens.accessToken() } }
                return try await g.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(Set(again).count == 1 && again[0] != old)
            #expect(await s.state.requestCounts["tiktok.token"] == 2)
            // The strict sandbox really is strict: the first, used refresh token is refused and kills the family.
            var req = HTTPClientRequest(url: s.baseURL + "/v2/oauth/token/")
            req.method = .POST
            req.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            req.body = .bytes(.init(string: "grant_type=refresh_token&client_key=key&client_secret=sec&refresh_token=rt-0"))
            let reuse = try await HTTPClient.shared.execute(req, timeout: .seconds(10))
            #expect(reuse.status == .badRequest)
            let next = store.refreshToken ?? ""
            req.body = .bytes(.init(string: "grant_type=refresh_token&client_key=key&client_secret=sec&refresh_token=\(next)"))
            #expect(try await HTTPClient.shared.execute(req, timeout: .seconds(10)).status == .badRequest)
        }
    }

    /// Every size class, against TikTok's own rule as the sandbox checks it; the reproduction included.
    @Test func chunkArithmeticHoldsForEverySize() {
        let sizes: [Int64] = [
            1, 5 * Self.mib - 1, 5 * Self.mib, 8_025_431, 8 * Self.mib - 1, 8 * Self.mib, 8 * Self.mib + 1,
            16 * Self.mib - 1, 16 * Self.mib, 17 * Self.mib + 3, 63_999_999, 64_000_000, 64_000_001, 200_000_000,
            1_000_000_000, 4 * 1024 * Self.mib
        ]
        for preferred in [5 * Self.mib, 8 * Self.mib, 10 * Self.mib, 64_000_000] {
            for size in sizes {
                let (chunk, count) = TikTokAdapter.chunks(size: size, preferred: preferred)
                #expect(TikTokRoutes.checkChunks(size: size, chunk: chunk, count: count) == nil, "size \(size) preferred \(preferred): \(chunk)×\(count)")
                // The byte ranges the adapter will send cover the file exactly.
                let last = size - chunk * Int64(count - 1)
                #expect(last >= 1 && (count == 1 || last >= chunk))
            }
        }
        #expect(TikTokAdapter.chunks(size: 8_025_431, preferred: 8 * Self.mib) == (8_025_431, 1))
        // What was sent before, and is refused now as TikTok refuses it.
        #expect(TikTokRoutes.checkChunks(size: 8_025_431, chunk: 8 * Self.mib, count: 1) != nil)
        #expect(TikTokRoutes.checkChunks(size: 100_000_000, chunk: 100_000_000, count: 1) != nil)
    }

    /// status/fetch (the descriptor's pace): never more than 30 in any minute, however the policy's numbers are set.
    @Test func statusPollingStaysInsideThePerTokenLimit() {
        let gaps = PollPolicy.Pacer.plannedGaps(TikTokPlatform.descriptor.statusPolling!, count: 200)
        var t = 0.0
        let times = gaps.map { g -> Double in
            t += Double(g.components.seconds) + Double(g.components.attoseconds) / 1e18; return t
        }
        for (i, start) in times.enumerated() {
            #expect(times[i...].prefix { $0 < start + 60 }.count <= 30)
        }
        #expect(gaps[1] >= .seconds(2) && gaps.last! <= .seconds(10))
        let greedy = PollPolicy(first: .milliseconds(1), max: .milliseconds(1), perMinute: 30)
        #expect(greedy.floor == .seconds(2))
    }

    /// The sandbox answers the 31st status/fetch of a minute on one token with 429 and Retry-After.
    @Test func sandboxEnforcesTheStatusLimit() async throws {
        let dir = try TempDir()
        let (s, adapter, _, _) = try await TikTokTests().setUp(dir, size: 1024)
        try await stopping(s) {
            var limited = 0
            for _ in 0..<31 {
                do { _ = try await adapter.fetchStatus("v_pub_file~v2-1.nope") } catch let e as DeliveryError where e.code == .rateLimited { limited += 1 }
            }
            #expect(limited == 1)
            #expect(await s.state.stats.rateLimited == 1)
        }
    }

    /// `on: init` rules are not spent by the claim; the adapter spends them as each init leaves.
    @Test func initRateIsChargedWhenTheRequestIsSent() throws {
        let dir = try TempDir()
        let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
        let ledger = try Ledger(path: dir.file("l.sqlite").path, clock: clock)
        let rule = QuotaRule(name: "init_per_minute", limit: 6, window: .rolling(seconds: 60), on: "init")
        for _ in 0..<6 { #expect(try ledger.spendRequest(account: "tiktok:a", rule: rule, deliveryId: 1) == nil) }
        let wait = try ledger.spendRequest(account: "tiktok:a", rule: rule, deliveryId: 1)
        #expect(wait == Date(timeIntervalSince1970: 1_800_000_060))
        #expect(try ledger.spendRequest(account: "tiktok:b", rule: rule, deliveryId: 2) == nil)
        clock.advance(60)
        #expect(try ledger.spendRequest(account: "tiktok:a", rule: rule, deliveryId: 1) == nil)
        let bundled = try ProfileCatalog.bundled()
        #expect(bundled.quotas["tiktok"]?.first { $0.name == "init_per_minute" }?.on == "init")
    }

    /// The reproduction of 9.4: every byte arrived, then the status check hits refused credentials.
    /// The delivery is held (gate auth), not failed; after set-token and retry it is reconciled — one post.
    @Test(.timeLimit(.minutes(6))) func credentialsErrorAfterUploadIsReconciledNeverResent() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [tiktok:main]", chunk: "5MiB")
        let clip = try Clips.make(width: 360, height: 640, seconds: 4)
        try Clips.copy(clip, to: config.paths.inbox.appendingPathComponent("a.mp4"))
        try dir.write("inbox/a.yaml", "title: once\n")
        let p = try await TestPipelines.runOnce(config, timeout: .seconds(240)) { p in
            guard let s = p.sandbox else { return }
            await s.state.setFaults(.init(finalReplyDelayMs: 1500))
            // While the last chunk's reply is held (the post exists), the account's access is revoked.
            Task {
                for _ in 0..<600 {
                    if await s.state.stats.finalRepliesPending > 0 {
                        await s.state.revoke(account: "tiktok:main")
                        return
                    }
                    try? await Task.sleep(for: .milliseconds(5))
                }
            }
        }
        try await stopping(p) {
            let ledger = p.context.ledger
            let why = try ledger.drops().map { "\($0.state) \($0.reasonCode ?? "") \($0.reasonMessage ?? "")" }
            let d = try #require(try ledger.allDeliveries().first, "\(why)")
            #expect(d.state == .ready && d.gate == "auth" && d.errorCode == "auth_revoked")
            #expect(d.remoteSession != nil)
            #expect(d.errorMessage?.contains("reconciled") == true)
            #expect(try ledger.drops().first?.state == .converted)
            let server = try #require(p.sandbox)
            #expect(await server.state.allVideos().count == 1)

            // The person authorizes again and retries, as the message says.
            await server.registerAccount(
                platform: "tiktok", name: "main", clientID: config.accounts["tiktok:main"]!.clientID,
                clientSecret: config.accounts["tiktok:main"]!.clientSecret, refreshToken: "rt-again")
            let sealer = try Sealer.load(file: config.paths.root.appendingPathComponent("secret.key"), env: "OMNIPOST_TEST_NO_SUCH_VAR")
            try ledger.replaceRefreshToken(account: "tiktok:main", refreshToken: try sealer.seal("rt-again"))
            let lines = try QueueControl(config: config, ledger: ledger).retry(d.dropId)
            #expect(lines.count == 1)
            // Same process, same sandbox: the second run reconciles.
            let ctx = p.context
            try await withThrowingTaskGroup(of: Void.self) { g in
                g.addTask { try await p.run(once: true) }
                g.addTask {
                    try await Task.sleep(for: .seconds(60)); throw OmniError(.internalError, "second run did not finish")
                }
                try await g.next()
                g.cancelAll()
            }
            let after = try #require(try ctx.ledger.allDeliveries().first)
            #expect(after.state == .published)
            #expect(await server.state.allVideos().count == 1)
            #expect(await server.state.requestCounts["tiktok.init"] == 1)
            #expect(try ctx.ledger.drops().first?.state == .archived)
        }
    }

    /// `--once` waits for the archive: a converted drop whose deliveries all finished is still work.
    @Test func onceCountsFinishedButUnarchivedDropsAsActive() throws {
        let dir = try TempDir()
        let ledger = try Ledger(path: dir.file("l.sqlite").path)
        try ledger.write { db, _ in
            var d = DropRecord(id: "d1", pipeline: "p", stem: "d1", clipPath: "d1.mp4", sidecarPath: nil, now: 1)
            d.state = .converted
            try d.insert(db)
            var x = DeliveryRecord(
                dropId: "d1", target: "youtube:main", platform: "youtube", account: "main", profile: "youtube",
                state: .published, plan: .pass, planDetail: nil, specKey: nil, metadataJson: "{}", contentSha256: "x", notBefore: nil, now: 1)
            try x.insert(db)
            // Another drop whose only delivery waits for next week: not work for --once.
            var h = DropRecord(id: "d2", pipeline: "p", stem: "d2", clipPath: "d2.mp4", sidecarPath: nil, now: 1)
            h.state = .converted
            try h.insert(db)
            var y = DeliveryRecord(
                dropId: "d2", target: "tiktok:main", platform: "tiktok", account: "main", profile: "tiktok",
                state: .ready, plan: .pass, planDetail: nil, specKey: nil, metadataJson: "{}", contentSha256: "y",
                notBefore: Date().timeIntervalSince1970 + 7 * 86400, now: 1)
            try y.insert(db)
        }
        #expect(try ledger.activeDropCount(horizon: 60) == 1)
    }

    /// A drop whose processing crashes the daemon (a real trap) twice is quarantined on the next start;
    /// a drop beside it is not charged for crashes it did not cause; kill -9 charges nothing.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CrashTests.binary)), .timeLimit(.minutes(6)))
    func aDropThatCrashesTwiceIsQuarantined() async throws {
        let dir = try TempDir()
        try dir.write(
            "p.yaml",
            """
            version: 1
            name: quarantine
            root: \(dir.path)
            watch: {mode: inotify, settle: 200ms}
            sidecar: {grace: 1s}
            sandbox: embedded
            \(TestPipelines.generousQuotas)
            targets: [youtube:main]
            """)
        let clip = try Clips.make(width: 320, height: 240, seconds: 1)
        try Clips.copy(clip, to: dir.file("inbox/poison.mp4"))
        try dir.write("inbox/poison.yaml", "title: poison\n")
        try Clips.copy(try Clips.make(width: 320, height: 240, seconds: 1.2), to: dir.file("inbox/good.mp4"))
        try dir.write("inbox/good.yaml", "title: good\n")
        @Sendable func run() throws -> (Int32, Process.TerminationReason) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CrashTests.binary)
            p.arguments = ["run", dir.file("p.yaml").path, "--once"]
            var env = ProcessInfo.processInfo.environment
            env["OMNIPOST_FAULT_TRAP"] = "validate:poison"
            env["SWIFT_BACKTRACE"] = "enable=no"
            p.environment = env
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            return (p.terminationStatus, p.terminationReason)
        }
        let first = try await offPool { try run() }
        #expect(first.1 == .uncaughtSignal)
        let second = try await offPool { try run() }
        #expect(second.1 == .uncaughtSignal)
        let third = try await offPool { try run() }
        #expect(third.0 == 0 && third.1 == .exit)
        let ledger = try Ledger(path: dir.file("ledger.sqlite").path)
        let drops = try ledger.drops()
        let poison = try #require(drops.first { $0.stem == "poison" })
        #expect(poison.state == .failed && poison.reasonCode == "internal_error" && poison.crashes == 2)
        #expect(poison.reasonMessage?.contains("crashed OmniPost 2 times") == true)
        #expect(drops.first { $0.stem == "good" }?.state == .archived)
        #expect(FileManager.default.fileExists(atPath: dir.file("failed/\(poison.id)/poison.mp4").path))
        #expect(FileManager.default.fileExists(atPath: dir.file("outbox/failed/\(poison.id).failure.json").path))
        // Markers are consumed at start.
        #expect(files(under: dir.file("work")).filter { $0.contains(".crashed-") }.isEmpty)
    }
}
