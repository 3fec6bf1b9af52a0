import Foundation
import OmniPostCore
@testable import OmniPostLedger
import Testing

/// Uploads claimed from one PostgreSQL ledger by several hosts at once (each claimer its own ledger and
/// connection, as separate hosts have): every row once, a dead claimer's rows taken over once its lease
/// lapses, a live one's kept by its heartbeat. And the same claim, written once, on SQLite.
@Suite(.enabled(if: PostgresServer.available, "PostgreSQL is not installed (make test installs it)"))
struct SharedLedgerClaimTests {
    static func open(_ server: PostgresServer, _ database: String, clock: any WallClock, pool: Int = 1) throws -> PostgresLedger {
        var config = PostgresLedgerConfig(host: "127.0.0.1", port: server.port, user: server.user, database: database)
        config.passwordFile = server.passwordFile
        config.poolSize = pool
        return try PostgresLedger(config, clock: clock)
    }

    @Test func threeHostsClaimEveryRowExactlyOnce() async throws {
        try await withPostgresDatabase { server, database in
            let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
            let hosts = try (0..<3).map { _ in try Self.open(server, database, clock: clock) }
            defer { hosts.forEach { $0.close() } }
            try hosts[0].plantReadyDeliveries(count: 600)

            // Three threads of their own (not the dispatch pool, which runs as many at once as there are cores).
            let claimed = Claimed()
            let done = DispatchGroup()
            for i in 0..<3 {
                done.enter()
                Thread {
                    while let d = try? hosts[i].claimUpload(owner: "host\(i):\(100 + i):t", lease: 600) { claimed.add(i, d.id) }
                    done.leave()
                }.start()
            }
            done.wait()
            let all = claimed.all
            #expect(all.count == 600, "every row claimed")
            #expect(Set(all.map(\.id)).count == 600, "no row claimed twice")
            #expect(Set(all.map(\.host)).count == 3, "all three hosts claimed (SKIP LOCKED passes over a row another is taking)")
            let attempts = try hosts[0].write { tx in try tx.row("SELECT COUNT(*) AS n, COUNT(DISTINCT delivery_id) AS d FROM attempts") }
            #expect(attempts?.int("n") == 600 && attempts?.int("d") == 600, "one attempt per delivery")
            #expect(try hosts[1].claimUpload(owner: "host1:101:t", lease: 600) == nil, "nothing left while the leases live")
        }
    }

    @Test func aDeadHostsUploadsAreTakenOverOnceItsLeaseLapsesAndALiveOnesAreNot() async throws {
        try await withPostgresDatabase { server, database in
            let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
            let a = try Self.open(server, database, clock: clock), b = try Self.open(server, database, clock: clock)
            defer {
                a.close()
                b.close()
            }
            try a.plantReadyDeliveries(count: 10)
            // The host that dies: it claims four uploads, then is gone (its connections closed, no heartbeat).
            let dead = try Self.open(server, database, clock: clock)
            let lost = try (0..<4).map { _ in try #require(try dead.claimUpload(owner: "c:300:t", lease: 30)) }
            try dead.heartbeat(owner: "c:300:t", host: "c", pid: 300, lease: 30)
            dead.close()
            // The live host holds two and keeps beating.
            let kept = try (0..<2).map { _ in try #require(try a.claimUpload(owner: "a:100:t", lease: 30)) }
            clock.advance(20)
            #expect(try a.heartbeat(owner: "a:100:t", host: "a", pid: 100, lease: 30) == 2)
            clock.advance(15)  // the dead host's leases lapsed 5 s ago; the live one's run 15 s more

            var taken: [LeasedDelivery] = []
            while let d = try b.claimUpload(owner: "b:200:t", lease: 30) { taken.append(d) }
            #expect(Set(taken.filter(\.takenOver).map(\.id)) == Set(lost.map(\.id)), "the dead host's uploads, each once")
            #expect(taken.filter { !$0.takenOver }.count == 4, "and the four nobody had")
            #expect(Set(taken.map(\.id)).isDisjoint(with: kept.map(\.id)), "never the live host's")
            #expect(taken.filter(\.takenOver).allSatisfy { $0.attempt == 2 })
            let interrupted = try b.write { tx in
                try tx.rows("SELECT delivery_id FROM attempts WHERE owner = 'c:300:t' AND outcome = 'interrupted'").compactMap { $0.int("delivery_id") }
            }
            #expect(Set(interrupted) == Set(lost.map(\.id)), "the dead host's attempts end as interrupted")
            let seen = try b.hosts()
            #expect(seen.map(\.owner) == ["a:100:t", "c:300:t"])
            #expect(seen.first { $0.owner == "c:300:t" }?.isLive(at: clock.now().timeIntervalSince1970) == false)
        }
    }

    /// The claim is written once (`DeliveryLeases`): on SQLite the same statements hand out the same rows in the same order.
    @Test func theSameClaimRunsOnSQLite() throws {
        let dir = try TempDir()
        let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
        let ledger = try Ledger(path: dir.file("ledger.sqlite").path, clock: clock)
        try ledger.plantReadyDeliveries(count: 5)
        let first = try ledger.claimUploadLease(owner: "a:1:t", lease: 30)
        #expect(first?.attempt == 1 && first?.takenOver == false)
        clock.advance(31)
        let ids = try (0..<5).compactMap { _ in try ledger.claimUploadLease(owner: "b:2:t", lease: 30) }
        #expect(ids.first?.id == first?.id && ids.first?.takenOver == true, "the lapsed lease first: it is the oldest due")
        #expect(Set(ids.map(\.id)).count == 5)
        #expect(try ledger.claimUploadLease(owner: "b:2:t", lease: 30) == nil)
        #expect(try ledger.attempts(forDelivery: first!.id).map(\.outcome) == ["interrupted", nil])
    }

    /// A host whose connections the server ended (as a restart does) reaches it again on its next
    /// heartbeat; a host whose database is gone is told so by its heartbeat, with a reason code.
    @Test func aHostThatLosesTheDatabaseIsToldAndReconnectsWhenItIsBack() throws {
        let server = try PostgresServer()  // its own, to stop
        defer { server.stop() }
        let database = try server.createDatabase()
        let host = try Self.open(server, database, clock: TestClock(Date(timeIntervalSince1970: 1_800_000_000)))
        defer { host.close() }
        try host.plantReadyDeliveries(count: 2)
        _ = try #require(try host.claimUpload(owner: "a:1:t", lease: 30))
        try server.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)'")
        // The ended connection may be noticed by the first statement (ledger_unreachable) or before it: then or on the next beat, it renews.
        var renewed: Int?
        for _ in 0..<2 {
            do {
                renewed = try host.heartbeat(owner: "a:1:t", host: "a", pid: 1, lease: 30)
                break
            } catch let e as OmniError {
                #expect(e.code == .ledgerUnreachable, "\(e)")
            }
        }
        #expect(renewed == 1)
        server.stop()
        let e = try #require(throws: OmniError.self) { try host.heartbeat(owner: "a:1:t", host: "a", pid: 1, lease: 30) }
        #expect(e.code == .ledgerUnreachable, "\(e)")
        #expect(throws: OmniError.self) { try host.claimUpload(owner: "a:1:t", lease: 30) }
    }

    @Test func aDatabaseThatCannotBeReachedIsSaidPlainly() async throws {
        let port = try DeadPort()
        let clock = TestClock(Date())
        let nowhere = PostgresLedgerConfig(host: "127.0.0.1", port: port.port, user: "omnipost", database: "omnipost")
        let e = try #require(throws: OmniError.self) { try PostgresLedger(nowhere, clock: clock) }
        #expect(e.code == .ledgerUnreachable)
        #expect(e.message.contains("cannot reach the ledger postgres://omnipost@127.0.0.1:\(port.port)/omnipost"), "\(e.message)")
        try await withPostgresDatabase { server, database in
            let dir = try TempDir()
            var wrong = PostgresLedgerConfig(host: "127.0.0.1", port: server.port, user: server.user, database: database)
            wrong.passwordFile = try dir.write("pw", "not-the-password\n")
            let e = try #require(throws: OmniError.self) { try PostgresLedger(wrong, clock: clock) }
            #expect(e.code == .ledgerUnreachable && e.message.contains("password authentication failed"), "\(e.message)")
        }
    }
}

/// Which host claimed which delivery, from several threads.
final class Claimed: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(host: Int, id: Int64)] = []
    func add(_ host: Int, _ id: Int64) { lock.withLock { items.append((host, id)) } }
    var all: [(host: Int, id: Int64)] { lock.withLock { items } }
}
