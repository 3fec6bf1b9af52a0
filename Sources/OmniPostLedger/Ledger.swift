import Foundation
import GRDB
import OmniPostCore

/// The ledger: one SQLite file holding every fact and every transition (ARCHITECTURE.md principle 1) —
/// or, shared by several hosts, one PostgreSQL database (docs/several-hosts.md).
/// Stages claim rows here and move them on inside transactions; nothing in memory is the source of truth.
package struct Ledger: Sendable {
    let backend: LedgerBackend
    package let clock: any WallClock
    /// Called after each committed transition; the CLI turns these into progress lines.
    let observer: (@Sendable (EventRecord) -> Void)?

    package init(path: String, clock: any WallClock = SystemClock(), observer: (@Sendable (EventRecord) -> Void)? = nil) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        let counting = SQLStatementCount.watching(path: path)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            if let counting { db.countStatements(into: counting) }
        }
        let pool = try DatabasePool(path: path, configuration: config)
        try Self.migrator.migrate(pool)
        self.backend = .sqlite(pool)
        self.clock = clock
        self.observer = observer
    }

    /// The same operations on the shared ledger: the families moved onto `LedgerSQL` run on it; one not
    /// moved yet throws `internal_error` naming itself rather than touch a SQLite file of its own
    /// (docs/ledger.md, "One interface, two backends").
    package init(shared: PostgresLedger, observer: (@Sendable (EventRecord) -> Void)? = nil) {
        self.backend = .postgres(shared)
        self.clock = shared.clock
        self.observer = observer
    }

    var now: Double { clock.now().timeIntervalSince1970 }

    /// The SQLite connection pool, for what only SQLite has (its `PRAGMA`s, its backup API, the schema's
    /// migrations) and for tests that look at the file's rows directly. Every ledger operation is written
    /// over `LedgerSQL` and runs on both backends (docs/ledger.md, "One interface, two backends"); on the
    /// shared ledger this refuses by name rather than touch a SQLite file of its own.
    var writer: any DatabaseWriter {
        get throws {
            switch backend {
            case .sqlite(let pool): return pool
            case .postgres:
                throw OmniError(.internalError, "this operation is for a SQLite ledger; the pipeline's ledger is the shared (PostgreSQL) one (docs/several-hosts.md)")
            }
        }
    }

    /// A GRDB read of the SQLite file, for the SQLite-only operations below. Reads and writes stay inside
    /// this module: callers use the named operations (Ledger+*.swift), so no SQL or GRDB type crosses the
    /// boundary; the operations themselves use `readSQL`/`writeSQL` and run on both backends.
    func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws -> T {
        try writer.read(body)
    }

    /// `PRAGMA integrity_check`'s answer (`ok`, or the first problems).
    package func integrityCheck() throws -> String {
        try read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ") }
    }

    package func journalMode() throws -> String {
        try read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "?" }
    }

    /// SQLite's `data_version` on the writer's connection: it moves when another connection — another
    /// process, such as `omnipost retry` — commits, and never for this process's own writes. On the shared
    /// ledger, where other hosts and commands write through their own connections: the newest event's id
    /// (every transition and every person's action writes one). It moves for this process's own writes
    /// too: a stage woken for those finds nothing new, which costs one look.
    package func externalChangeCount() throws -> Int {
        switch backend {
        case .sqlite(let pool): return try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA data_version") ?? 0 }
        case .postgres: return Int(try lastEventId())
        }
    }

    /// Whether a write transaction can begin now (`/readyz`): taken and rolled back, nothing written.
    /// On the shared ledger: whether the database answers.
    package func canWrite() -> Bool {
        switch backend {
        case .sqlite(let pool): (try? pool.writeWithoutTransaction { db in try db.inTransaction(.immediate) { .rollback } }) != nil
        case .postgres(let pg): (try? pg.write { tx in try tx.run("SELECT 1") }) != nil
        }
    }

    /// Runs `body` in one GRDB write transaction on the SQLite file and reports the events it recorded once
    /// committed. No operation uses it any more (they use `writeSQL`); tests that plant SQLite rows do.
    @discardableResult
    func write<T: Sendable>(_ body: @Sendable (Database, inout [EventRecord]) throws -> T) throws -> T {
        let (value, events) = try writer.write { db -> (T, [EventRecord]) in
            var events: [EventRecord] = []
            let v = try body(db, &events)
            return (v, events)
        }
        if let observer { events.forEach(observer) }
        return value
    }
}

/// Where a ledger's rows are.
enum LedgerBackend: Sendable {
    /// One machine's SQLite file (WAL, a pool of readers and one writer).
    case sqlite(DatabasePool)
    /// The PostgreSQL database several hosts share.
    case postgres(PostgresLedger)
}
