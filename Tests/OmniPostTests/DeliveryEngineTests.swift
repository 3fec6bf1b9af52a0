import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPipeline
import OmniPostSandbox
import Testing

/// The delivery engine end to end through the sandbox: Retry-After, the breaker, a revoked account
/// beside a healthy one, schedules, cancel and retry.
@Suite struct DeliveryEngineTests {
    static func clip(_ dir: TempDir, _ name: String, seconds: Double = 2) throws {
        try Clips.copy(try Clips.make(width: 540, height: 960, seconds: seconds), to: dir.file("inbox/\(name).mp4"))
    }

    static func attempts(_ p: Pipeline) throws -> [AttemptRecord] { try p.context.ledger.allAttempts() }

    @Test func retryAfterIsHonoured() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]")
        try Self.clip(dir, "a")
        try dir.write("inbox/a.yaml", "title: rate limited\n")
        let p = try await TestPipelines.runOnce(config) { p in
            await p.sandbox!.state.setFaults(.init(rateLimitInits: 1, rateLimitRetryAfterS: 2))
        }
        try await stopping(p) {
            let d = try #require(try p.context.ledger.allDeliveries().first)
            #expect(d.state == .published)
            let a = try Self.attempts(p)
            #expect(a.map(\.outcome) == ["deferred", "published"])
            #expect(a.first?.httpStatus == 429 && a.first?.errorCode == "rate_limited")
            // The second attempt waited for Retry-After (2 s), not for the backoff (≤ 200 ms here). The 2 s
            // run from the 429's arrival, which is after the first attempt started and before it was
            // recorded finished — on a loaded machine 0.25 s before (a clean-clone run had 1.75 s from the
            // finish): so 2 s from its start, and well over the backoff from its finish.
            #expect(a[1].startedAt - a[0].startedAt >= 2.0, "\(a[1].startedAt - a[0].startedAt) s from the first attempt's start")
            #expect(a[1].startedAt - a[0].finishedAt! >= 1.0, "\(a[1].startedAt - a[0].finishedAt!) s from its finish")
            // A platform's "later" is not a failed try: the count stays at one.
            #expect(d.attempts == 1)
        }
    }

    @Test func theBreakerOpensProbesAndCloses() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(
            root: dir.url, targets: "targets: [youtube:main]",
            upload: "{chunk_size: 256KiB, concurrency: 2, breaker: {failures: 2, cooldown: 1s}}")
        try Self.clip(dir, "a")
        try dir.write("inbox/a.yaml", "title: flaky\n")
        let p = try await TestPipelines.runOnce(config) { p in
            // Three failed upload starts: two open the breaker, the first probe fails and reopens it, the next closes it.
            await p.sandbox!.state.setFaults(.init(failInits: [503, 503, 503]))
        }
        try await stopping(p) {
            #expect(try p.context.ledger.allDeliveries().first?.state == .published)
            let a = try Self.attempts(p)
            #expect(a.map(\.outcome) == ["retry", "retry", "retry", "published"])
            #expect(a.prefix(3).allSatisfy { $0.httpStatus == 503 && $0.errorCode == "platform_error" })
            let moves = try p.context.ledger.events(stage: "breaker").map { "\($0.fromState ?? "")→\($0.toState)" }
            #expect(moves == ["closed→open", "open→half_open", "half_open→open", "open→half_open", "half_open→closed"])
            // While open nothing was tried: the probe came only after the cool-down.
            #expect(a[2].startedAt - a[1].finishedAt! >= 0.95)
            #expect(try p.context.ledger.breakers().first?.state == .closed)
        }
    }

    @Test func aRevokedAccountFailsOnlyItsOwnDeliveriesAndComesBackWithANewToken() async throws {
        let dir = try TempDir()
        // A sandbox of our own, outliving both runs below.
        let server = SandboxServer(root: dir.file("sandbox"))
        try await server.start()
        try await stopping(server) {
            for n in ["main", "second"] {
                await server.registerAccount(platform: "youtube", name: n, clientID: "cid", clientSecret: "sec", refreshToken: "rt-\(n)")
            }
            let base = server.baseURL
            let config = try PipelineConfig.parse(
                text: """
                    version: 1
                    root: \(dir.url.path)
                    watch: {mode: inotify, settle: 200ms}
                    sidecar: {grace: 1s}
                    upload: {chunk_size: 256KiB, concurrency: 2}
                    \(TestPipelines.generousQuotas)
                    targets: [youtube:main, youtube:second]
                    accounts:
                      youtube:main: {client_id: cid, client_secret: sec, refresh_token: rt-main, endpoint: "\(base)", token_url: "\(base)/token"}
                      youtube:second: {client_id: cid, client_secret: sec, refresh_token: rt-second, endpoint: "\(base)", token_url: "\(base)/token"}
                    """, file: "p.yaml", baseDirectory: dir.url)
            for (n, seconds) in [("a", 2.0), ("b", 2.5)] {
                try Self.clip(dir, n, seconds: seconds)
                try dir.write("inbox/\(n).yaml", "title: \(n)\n")
            }
            await server.state.revoke(account: "youtube:second")
            let p = try await TestPipelines.runOnce(config)
            let ledger = p.context.ledger
            let all = try ledger.allDeliveries()
            #expect(all.filter { $0.account == "main" }.count == 2 && all.filter { $0.account == "main" }.allSatisfy { $0.state == .published })
            let second = all.filter { $0.account == "second" }
            #expect(second.count == 2 && second.allSatisfy { $0.state == .failed && $0.errorCode == "auth_revoked" })
            #expect(second.first?.errorMessage?.contains("omnipost accounts set-token") == true)
            #expect(try ledger.breakers().allSatisfy { $0.state == .closed })
            await p.close()

            // The person authorizes again: a new refresh token, stored sealed; then retries the two drops.
            await server.registerAccount(platform: "youtube", name: "second", clientID: "cid", clientSecret: "sec", refreshToken: "rt-again")
            let sealer = try Sealer.load(file: dir.file("secret.key"), env: "OMNIPOST_TEST_NO_SUCH_VAR")
            try ledger.replaceRefreshToken(account: "youtube:second", refreshToken: try sealer.seal("rt-again"))
            let raw = try ["youtube:main", "youtube:second"].compactMap { try ledger.token(account: $0)?.refreshToken }
            #expect(raw.count == 2 && raw.allSatisfy { $0.hasPrefix("sealed:v1:") } && !raw.contains { $0.contains("rt-") })
            let control = QueueControl(config: config, ledger: ledger)
            for drop in Set(second.map(\.dropId)) {
                let lines = try control.retry(drop)
                #expect(lines.last?.contains("youtube:second will be tried again") == true)
            }
            #expect(files(under: dir.file("inbox")).count == 4)

            let p2 = try await TestPipelines.runOnce(config)
            try await stopping(p2) {
                // Only what failed went again: two posts on `second`, none repeated on `main`.
                let videos = await server.state.allVideos()
                #expect(videos.filter { $0.account == "youtube:main" }.count == 2)
                #expect(videos.filter { $0.account == "youtube:second" }.count == 2)
                let again = try p2.context.ledger.allDeliveries().filter { !second.map(\.dropId).contains($0.dropId) && !all.map(\.dropId).contains($0.dropId) }
                #expect(again.filter { $0.account == "second" }.allSatisfy { $0.state == .published })
                #expect(again.filter { $0.account == "main" }.allSatisfy { $0.state == .cancelled && $0.errorCode == "duplicate" })
            }
        }
    }

    @Test func nextSlotIsStaggeredNativeOnYouTubeHeldForTikTokAndCancellable() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(
            root: dir.url, extra: "schedule: {zone: Europe/Berlin, slots: [\"09:00\", \"18:00\"], stagger: 15m}",
            targets: "targets: [youtube:main, tiktok:main]")
        try Self.clip(dir, "a", seconds: 3.3)
        try dir.write("inbox/a.yaml", "title: later\npublish_at: next_slot\npriority: high\n")
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let slot = try #require(config.schedule.next(after: Date()))
            let ds = try p.context.ledger.allDeliveries()
            let yt = try #require(ds.first { $0.platform == "youtube" }), tt = try #require(ds.first { $0.platform == "tiktok" })
            // YouTube schedules natively: uploaded now, private, publishAt = the slot.
            #expect(yt.state == .published && yt.scheduledAt == slot.timeIntervalSince1970 && yt.priority == 10)
            let video = try #require(await p.sandbox!.state.allVideos().first)
            #expect(video.privacy == "private" && video.publishAt.flatMap { ISO8601DateFormatter().date(from: $0) } == slot)
            // TikTok cannot: OmniPost holds it until the slot plus the 15-minute stagger.
            #expect(tt.state == .ready && tt.gate == "schedule" && tt.notBefore == slot.timeIntervalSince1970 + 900)
            let report = try StatusReport.gather(config: config, ledger: p.context.ledger, profiles: p.context.profiles)
            #expect(report.queue.map(\.gate) == ["schedule"])
            #expect(try report.text(ledger: p.context.ledger).contains("held by schedule"))
            // The insert's 1,600 units, and the unit of the videos.list that read the video back (README, "After the post").
            #expect(report.quotas.contains { $0.account == "youtube:main" && $0.used == 1601 }, "\(report.quotas)")
            // A second next_slot drop takes the following slot.
            #expect(try p.context.ledger.takenSlots(from: 0) == [slot.timeIntervalSince1970])
            // Cancelled, the held delivery is done with and the drop can finish.
            let lines = try await QueueControl(config: config, ledger: p.context.ledger).cancel(tt.dropId)
            #expect(lines == ["delivery \(tt.id!) (tiktok:main) cancelled"])
            #expect(try p.context.ledger.delivery(tt.id!)?.state == .cancelled)
            await #expect(throws: OmniError.self) { try await QueueControl(config: config, ledger: p.context.ledger).cancel(String(yt.id!)) }
        }
    }

    @Test func retriesStopAtTheMaximumAge() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(
            root: dir.url, targets: "targets: [youtube:main]",
            upload: "{chunk_size: 256KiB, max_age: 1s, max_attempts: 1000, breaker: {failures: 100}}")
        try Self.clip(dir, "a")
        try dir.write("inbox/a.yaml", "title: doomed\n")
        let p = try await TestPipelines.runOnce(config) { p in
            await p.sandbox!.state.setFaults(.init(failInits: Array(repeating: 503, count: 200)))
        }
        try await stopping(p) {
            let d = try #require(try p.context.ledger.allDeliveries().first)
            #expect(d.state == .failed && d.errorCode == "retries_exhausted")
            #expect(d.errorMessage?.contains("upload.max_age") == true)
            #expect(try Self.attempts(p).last?.outcome == "failed")
            #expect(files(under: dir.file("outbox/failed")).count == 1)
        }
    }
}
