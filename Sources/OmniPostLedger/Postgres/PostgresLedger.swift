import Foundation
import OmniPostCore

/// The ledger on PostgreSQL, shared by several hosts (docs/several-hosts.md). It opens like the SQLite
/// ledger — connect, bring the schema to the current version, then named operations only — and runs the
/// operations written once over `LedgerSQL` (Shared/), through `Ledger(shared:)` — every family of them
/// (docs/ledger.md, "One interface, two backends"), so the daemon and the commands run on it
/// (`Ledger.open`); `omnipost check` reaches it and reports its schema.
package final class PostgresLedger: Sendable {
    let connections: PostgresConnections
    package let clock: any WallClock
    package var config: PostgresLedgerConfig { connections.config }

    /// Connects (the first connection proves the address, the login and the database) and migrates —
    /// unless `migrating` is false (`omnipost check` looks and changes nothing).
    package init(_ config: PostgresLedgerConfig, clock: any WallClock = SystemClock(), migrating: Bool = true) throws {
        self.connections = try PostgresConnections(config: config)
        self.clock = clock
        do {
            if migrating { try migrate() } else { _ = try describeServer() }
        } catch {
            connections.close()
            throw error
        }
    }

    var now: Double { clock.now().timeIntervalSince1970 }

    /// One transaction: `body`'s statements all commit or none do.
    func write<T>(_ body: (PostgresTransaction) throws -> T) throws -> T {
        try connections.with { try PostgresTransaction.inTransaction($0, body) }
    }

    /// Closes every connection; nothing runs on this ledger afterwards.
    package func close() { connections.close() }

    /// A command that opened the ledger (`status`, `retry`, …) lets it go when it is done: its connections
    /// are closed then, as PostgresNIO asks, rather than dropped open. Closing twice is nothing.
    deinit { connections.close() }

    /// Brings the schema to the newest version. Hosts starting together take turns: the first holds a
    /// transaction-scoped advisory lock while it migrates (DDL is transactional in PostgreSQL), the others
    /// wait for it and then find nothing left to do.
    func migrate() throws {
        try write { tx in
            try tx.run("SELECT pg_advisory_xact_lock(?)", Self.migrationLock)
            try tx.run("CREATE TABLE IF NOT EXISTS ledger_migrations (identifier TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)")
            let applied = Set(try tx.rows("SELECT identifier FROM ledger_migrations").compactMap { $0.text("identifier") })
            let known = Set(PostgresSchema.migrations.map(\.id))
            if let unknown = applied.subtracting(known).sorted().first {
                throw OmniError(
                    .ledgerUnreachable,
                    "the ledger \(config.display) was migrated by a newer OmniPost (it has \(unknown)); this version cannot use it")
            }
            for m in PostgresSchema.migrations where !applied.contains(m.id) {
                for statement in m.statements { try tx.run(statement) }
                try tx.run("INSERT INTO ledger_migrations (identifier, applied_at) VALUES (?, ?)", m.id, now)
            }
        }
    }

    /// The advisory lock key migrations hold (any fixed number; this one spells "OMNIPOST").
    static let migrationLock: Int64 = 0x4F4D_4E49_504F_5354

    /// The identifiers of the migrations applied, in the order they are written (none on a new database).
    package func appliedMigrations() throws -> [String] {
        let applied = Set(
            try write { tx in
                guard try tx.row("SELECT to_regclass('ledger_migrations') IS NOT NULL AS present")?.int("present") == 1 else { return [String]() }
                return try tx.rows("SELECT identifier FROM ledger_migrations").compactMap { $0.text("identifier") }
            })
        return PostgresSchema.migrations.map(\.id).filter(applied.contains)
    }

    /// The server's version string and the database's size, for `omnipost check`.
    package func describeServer() throws -> String {
        try write { tx in
            let r = try tx.row("SELECT current_setting('server_version') AS v, pg_database_size(current_database()) AS size")
            return "PostgreSQL \(r?.text("v") ?? "?"), \(r?.int("size") ?? 0) bytes"
        }
    }
}
