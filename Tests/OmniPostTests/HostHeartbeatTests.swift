import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostIngest
@testable import OmniPostLedger
@testable import OmniPostPipeline
import OmniPostPlatforms
@testable import OmniPostSandbox
import Synchronization
import Testing

/// The daemon's heartbeat on a shared ledger (issue 27): a host whose database goes away stops claiming,
/// `/readyz` fails with the sentence and one alert goes out; when the database is back it claims again
/// and says so. Against a private PostgreSQL server of its own, really stopped and started again.
@Suite(.enabled(if: PostgresServer.available, "PostgreSQL is not installed (make test installs it)"))
struct HostHeartbeatTests {
    /// A stage loop's claims, counted: the loop under test (`Pipeline.loop`) decides whether it may claim.
    final class CountingStage: Stage, Sendable {
        let name = "counting"
        private let steps = Mutex(0)
        func step() async throws -> Bool {
            steps.withLock { $0 += 1 }
            try await Task.sleep(for: .milliseconds(20))
            return true
        }
        var count: Int { steps.withLock { $0 } }
    }

    static func context(_ config: PipelineConfig, _ ledger: Ledger) throws -> PipelineContext {
        PipelineContext(
            config: config, ledger: ledger, profiles: try ProfileCatalog.bundled(), adapters: [:], logger: TestPipelines.logger, wakeup: Wakeup(),
            progress: .silent, tools: ToolRunner(), owner: Pipeline.owner(host: config.host.name))
    }

    @Test(.timeLimit(.minutes(3))) func aHostThatLosesTheDatabaseStopsClaimingFailsReadinessAlertsOnceAndResumes() async throws {
        let server = try PostgresServer()  // its own: this test stops it
        let database = try server.createDatabase()
        let dir = try TempDir()
        let sandbox = SandboxServer(root: dir.file("receivers"))
        try await sandbox.start()
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await stopping(sandbox) {
                var config = try TestPipelines.config(
                    root: dir.url,
                    extra: """
                        host: box-a
                        notify: {digest_hour: off, sinks: [{kind: ntfy, name: ntfy, url: "\(sandbox.baseURL)/sandbox/capture/ntfy"}]}
                        """)
                config.host.heartbeat = .milliseconds(200)
                let shared = try SharedLedgerClaimTests.open(server, database, clock: SystemClock(), pool: 2)
                defer { shared.close() }
                let ctx = try Self.context(config, Ledger(shared: shared))
                let heart = HostHeartbeat(ctx: ctx, http: http)
                let watcher = InboxWatcher(inbox: config.paths.inbox, config: config.watch, logger: TestPipelines.logger)
                func heartbeatCheck() -> Readiness.Check? { Readiness.check(ctx, watcher: watcher).first { $0.name == "heartbeat" } }

                await heart.beat()
                #expect(ctx.hostHealth.claiming)
                #expect(heartbeatCheck()?.ok == true)
                let rows = try shared.hosts()
                #expect(rows.map(\.host) == ["box-a"] && rows.first?.owner == ctx.owner, "its row in ledger_hosts, named by host: \(rows)")

                let stage = CountingStage()
                let loop = Task { await Pipeline.loop(stage, role: .convert, ctx: ctx) }
                defer { loop.cancel() }
                _ = try await RetryTests.until(seconds: 20) { stage.count > 2 ? true : nil }

                // The database goes away: the next beat finds it gone.
                try await offPool { try server.pause() }
                await heart.beat()
                #expect(!ctx.hostHealth.claiming, "a host that lost the ledger claims nothing")
                let check = try #require(heartbeatCheck())
                #expect(!check.ok)
                #expect(check.detail.hasPrefix("ledger_lost: box-a cannot reach the ledger (ledger_unreachable: "), "\(check.detail)")
                await heart.beat()  // still gone: said once, not once a beat
                // The loop stops claiming (a step in progress may finish); rung or not, it claims nothing more.
                try await Task.sleep(for: .milliseconds(300))
                let stopped = stage.count
                for _ in 0..<5 {
                    ctx.wakeup.ring()
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(stage.count == stopped, "no claim while the ledger is lost")
                let lost = await sandbox.state.captured["ntfy"] ?? []
                #expect(lost.count == 1, "one alert: \(lost)")
                #expect(lost.first?.title == "test: box-a lost the ledger" && lost.first?.body.contains("ledger_lost: box-a cannot reach the ledger") == true, "\(lost)")

                // It comes back: the first beat that reaches it resumes claiming and says so.
                try await offPool { try server.resume() }
                // (A connection the stop broke may be the first one tried: then the next beat connects anew.)
                for _ in 0..<100 where !ctx.hostHealth.claiming {
                    await heart.beat()
                    if !ctx.hostHealth.claiming { try await Task.sleep(for: .milliseconds(200)) }
                }
                #expect(ctx.hostHealth.claiming, "claims again once the database is back")
                #expect(heartbeatCheck()?.ok == true)
                _ = try await RetryTests.until(seconds: 20) { stage.count > stopped + 2 ? true : nil }
                let all = await sandbox.state.captured["ntfy"] ?? []
                #expect(all.count == 2 && all.last?.body.contains("box-a reached the ledger again after") == true, "\(all)")
                #expect(try ctx.ledger.events().contains { $0.kind == .ledgerBack }, "the return is in the ledger")
            }
        } catch {
            try? await http.shutdown()
            _ = try? await offPool { server.stopAfterPausing() }
            throw error
        }
        try await http.shutdown()
        try await offPool { server.stopAfterPausing() }
    }

    /// On one machine the same heartbeat runs: it renews the uploads this process holds (never shortening
    /// their lease) and leaves another owner's alone.
    @Test func onSQLiteTheHeartbeatRenewsTheUploadsItHolds() throws {
        let dir = try TempDir()
        let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
        let ledger = try Ledger(path: dir.file("ledger.sqlite").path, clock: clock)
        try ledger.plantReadyDeliveries(count: 2)
        let mine = try #require(try ledger.claimUploadLease(owner: "box-a:1:t", lease: 30))
        let theirs = try #require(try ledger.claimUploadLease(owner: "box-b:2:t", lease: 30))
        clock.advance(20)
        #expect(try ledger.beat(owner: "box-a:1:t", host: "box-a", pid: 1, roles: ["upload"], lease: 30) == 1)
        clock.advance(15)  // box-b's lease lapsed 5 s ago; box-a's runs 15 s more
        let held = try ledger.heldClaims()
        #expect(held.map(\.id) == ["\(mine.id)"] && held.first?.host == "box-a", "\(held)")
        #expect(try ledger.claimUploadLease(owner: "box-c:3:t", lease: 30)?.id == theirs.id, "the lapsed one is taken over, the renewed one is not")
        // A longer lease is never shortened by a beat.
        #expect(try ledger.beat(owner: "box-c:3:t", host: "box-c", pid: 3, roles: ["upload"], lease: 1) == 1)
        #expect(try ledger.heldClaims().first { $0.owner == "box-c:3:t" }?.leaseUntil == clock.now().timeIntervalSince1970 + 30)
    }
}
