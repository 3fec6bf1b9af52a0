import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// The duties one host runs at a time on a shared ledger (issue 27): the account checks and the
/// approval watcher run on the live host that started first — the alerts' rule — and move to the next
/// host once the holder stops beating and its lease lapses.
@Suite(.enabled(if: PostgresServer.available, "PostgreSQL is not installed (make test installs it)"))
struct SharedDutiesTests {
    static let t0 = 1_800_000_000.0

    /// At the ledger, on PostgreSQL: nobody before a beat; the host that beat first holds the duties, read
    /// the same from both hosts; it stops beating and the other holds them once its lease lapses, not
    /// before; it beats again and holds them again (it started first).
    @Test func theSeniorLiveHostHoldsTheDutiesAndTheNextTakesThemOverAfterTheLease() async throws {
        try await withPostgresDatabase { server, database in
            let clock = TestClock(Date(timeIntervalSince1970: Self.t0))
            try await SharedLedgerHostsTests.twoHosts(server, database, clock: clock) { a, b in
                let (ownerA, ownerB) = ("box-a:1:t", "box-b:2:t")
                func beat(_ l: Ledger, _ owner: String) throws {
                    try l.beat(owner: owner, host: Ledger.host(ofOwner: owner), pid: owner == ownerA ? 1 : 2, roles: [], lease: 30)
                }
                func holders() throws -> [Bool] { [try a.holdsDuties(owner: ownerA), try b.holdsDuties(owner: ownerB)] }
                #expect(try holders() == [false, false], "no host has beaten yet")
                try beat(a, ownerA)
                clock.advance(1)
                try beat(b, ownerB)
                #expect(try holders() == [true, false])
                #expect(try b.holdsDuties(owner: ownerA) && !a.holdsDuties(owner: ownerB), "both hosts read the same holder")
                // `status` on either host names it.
                let config = try TestPipelines.config(root: try TempDir().url, targets: "targets: [youtube:main]")
                let report = try StatusReport.gather(config: config, ledger: b, profiles: try ProfileCatalog.bundled())
                #expect(report.duties == "box-a")
                #expect(try report.text(ledger: b).contains("duties: box-a (account checks, approval deadlines, the ledger's alerts)"))
                #expect((try JSONSerialization.jsonObject(with: Data(try report.json().utf8)) as? [String: Any])?["duties"] as? String == "box-a")
                // A stops beating; B beats every 10 s. A's lease runs to t0 + 30.
                for _ in 0..<2 {
                    clock.advance(10)
                    try beat(b, ownerB)
                    #expect(try holders() == [true, false], "A's lease is live: B waits")
                }
                clock.advance(10)
                try beat(b, ownerB)
                #expect(try holders() == [false, true], "A's lease lapsed: B holds the duties")
                // A reaches the ledger again: it started first, so it holds them from its first beat.
                try beat(a, ownerA)
                #expect(try holders() == [true, false])
            }
        }
        // One machine: always.
        let alone = try await withLedger(.sqlite) { l in (try l.holdsDuties(owner: "any:1:t"), try l.dutiesHolder()) }
        #expect(alone.0 && alone.1 == nil)
    }

    /// Two daemons' watchers on one PostgreSQL ledger, really running: B's account checks and approval
    /// watcher do nothing while A (which beat first) is alive — no account checked, a drop past its
    /// approval deadline not expired — and take over once A stops beating: the drop is rejected
    /// `approval_expired` once, and B checks the accounts as at a start.
    @Test(.timeLimit(.minutes(3))) func aDaemonWithoutTheDutiesRunsNoChecksAndTakesThemOverWhenTheHolderStops() async throws {
        try await withPostgresDatabase { server, database in
            let dir = try TempDir()
            func config(_ host: String) throws -> PipelineConfig {
                var c = try TestPipelines.config(
                    root: dir.url,
                    extra: """
                        host: \(host)
                        ledger: {url: '\(server.url(database))', password_file: '\(server.passwordFile.path)', pool_size: 4}
                        approval: {targets: [tiktok:main], expire_after: 30m}
                        """,
                    targets: "targets: [tiktok:main]")
                // Short enough for the test, long enough that A's one beat (a lease of 6 s) outlives the
                // first look on a loaded machine.
                c.host.heartbeat = .seconds(2)
                return c
            }
            let a = try await Pipeline.open(config: try config("box-a"), logger: TestPipelines.logger, embedding: TestPipelines.embedding)
            try await stopping(a) {
                let b = try await Pipeline.open(config: try config("box-b"), logger: TestPipelines.logger, embedding: TestPipelines.embedding)
                try await stopping(b) {
                    // A drop waiting for approval for an hour: past its 30-minute deadline.
                    let hourAgo = Date().timeIntervalSince1970 - 3600
                    try LedgerFamiliesTests.plant(a.context.ledger, drop: "waits", targets: ["tiktok:main"], at: hourAgo)
                    try a.context.ledger.writeSQL { sql, _ in
                        try sql.run("UPDATE deliveries SET gate = 'approval', not_before = ? WHERE drop_id = 'waits'", Ledger.approvalHold)
                    }
                    // A beats once (it started first), then B's heartbeat and watchers run.
                    await HostHeartbeat(ctx: a.context, http: a.http).beat()
                    let ledger = b.context.ledger
                    func checks() throws -> Int { try ledger.events().filter { $0.stage == "accounts" }.count }
                    func expired() throws -> Bool { try ledger.deliveries(forDrop: "waits").allSatisfy { $0.state == .failed } }
                    let running = Task {
                        await withTaskGroup(of: Void.self) { group in
                            group.addTask { await HostHeartbeat(ctx: b.context, http: b.http).run() }
                            group.addTask { await ApprovalWatch(ctx: b.context).run() }
                            group.addTask { await AccountWatch(ctx: b.context, tokens: b.tokens, http: b.http).run() }
                        }
                    }
                    defer { running.cancel() }
                    // Within A's lease (6 s from its beat), after B's watchers have looked: B runs nothing.
                    try await Task.sleep(for: .milliseconds(1500))
                    #expect(try ledger.holdsDuties(owner: a.context.owner))
                    #expect(try checks() == 0, "B checked an account while A holds the duties")
                    #expect(try !expired(), "B expired a drop while A holds the duties")
                    // A beats no more: B takes the duties over once A's lease lapses.
                    let deadline = Date().addingTimeInterval(20)
                    while Date() < deadline, try !(expired() && checks() > 0) { try await Task.sleep(for: .milliseconds(100)) }
                    #expect(try ledger.holdsDuties(owner: b.context.owner))
                    #expect(try expired(), "B expired the drop after taking the duties over")
                    let held = try ledger.deliveries(forDrop: "waits")
                    #expect(held.allSatisfy { $0.errorCode == ReasonCode.approvalExpired.rawValue }, "\(held.map { "\($0.state) \($0.errorCode ?? "")" })")
                    #expect(try ledger.events(forDrop: "waits").filter { $0.toState == "failed" }.count == 1, "expired once")
                    #expect(try checks() == 1, "B checked the account once, as at a start")
                    running.cancel()
                    await running.value
                }
            }
        }
    }
}
