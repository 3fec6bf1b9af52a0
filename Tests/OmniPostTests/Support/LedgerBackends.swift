import Foundation
import OmniPostCore
import OmniPostLedger
import Testing

/// The two ledger backends a family moved onto `LedgerSQL` is tested against (docs/ledger.md, "One
/// interface, two backends"): the same test, the same operations, on a SQLite file and on PostgreSQL.
enum LedgerBackendKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    /// Both where PostgreSQL is installed (`make test` installs it); SQLite alone otherwise.
    static var available: [LedgerBackendKind] { PostgresServer.available ? allCases : [.sqlite] }

    var testDescription: String { rawValue }
}

/// A new, empty ledger on `backend` for `body`: a SQLite file in a fresh folder, or a database of its own
/// on the test process's PostgreSQL server (`withPostgresDatabase`), closed and dropped afterwards.
func withLedger<T>(_ backend: LedgerBackendKind, clock: any WallClock = SystemClock(), _ body: (Ledger) async throws -> T) async throws -> T {
    switch backend {
    case .sqlite:
        let dir = try TempDir()
        defer { withExtendedLifetime(dir) {} }
        return try await body(Ledger(path: dir.file("ledger.sqlite").path, clock: clock))
    case .postgres:
        return try await withPostgresDatabase { server, database in
            let shared = try SharedLedgerClaimTests.open(server, database, clock: clock, pool: 2)
            defer { shared.close() }
            return try await body(Ledger(shared: shared))
        }
    }
}
