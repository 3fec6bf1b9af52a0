import Foundation
import OmniPostCore
import OmniPostLedger
import Testing

/// The decisions lock's connection (issue 30 beside 27): every validation on the shared ledger takes the
/// decisions lock on a connection of its own, and opening one (its authentication) cost more than the
/// hold. A connection whose lock was let go is kept for the next hold; one the server dropped meanwhile
/// is replaced without the hold failing; and a kept connection never keeps the lock itself.
@Suite(.serialized, .enabled(if: PostgresServer.available, "PostgreSQL is not installed (make test installs it)"))
struct SharedLockConnectionTests {
    /// The backend holding the decisions lock now (its space, `SQLDialect.decisionLockSpace`, is the first
    /// of the lock's two keys), from the server's own table; none: "".
    static func holder(_ server: PostgresServer, _ database: String) throws -> String {
        try server.psql("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND classid::bigint = \(0x4F4D_4E44) AND objsubid = 2", database: database)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aHoldReusesTheLastHoldsConnectionLetsTheLockGoAndSurvivesItsConnectionDropped() async throws {
        try await withPostgresDatabase { server, database in
            let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
            let shared = try (0..<2).map { _ in try SharedLedgerClaimTests.open(server, database, clock: clock, pool: 2) }
            defer { shared.forEach { $0.close() } }
            let a = Ledger(shared: shared[0]), b = Ledger(shared: shared[1])
            var backends: [String] = []
            for _ in 0..<5 {
                let hold = try await a.holdDecisions()
                backends.append(try Self.holder(server, database))
                hold.release()
                #expect(try Self.holder(server, database) == "", "let go on release, though the connection is kept")
            }
            #expect(!backends[0].isEmpty)
            #expect(Set(backends).count == 1, "five holds on one kept connection: \(backends)")
            // The other host takes the lock at once: the kept connection holds nothing.
            let other = try await b.holdDecisions()
            #expect(try Self.holder(server, database) != backends[0])
            other.release()
            // The server drops the kept connection (a restart, an idle timeout): the next hold opens another.
            _ = try server.psql("SELECT pg_terminate_backend(\(backends[0]))", database: database)
            try await Task.sleep(for: .milliseconds(200))
            let again = try await a.holdDecisions()
            let now = try Self.holder(server, database)
            #expect(!now.isEmpty && now != backends[0])
            again.release()
            #expect(try Self.holder(server, database) == "")
        }
    }
}
