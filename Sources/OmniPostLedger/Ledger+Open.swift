import Foundation
import GRDB
import OmniPostCore

extension Ledger {
    /// A pipeline's ledger, wherever its file says it is: the shared PostgreSQL database `ledger:` names
    /// (connected, migrated — docs/several-hosts.md), or else the SQLite file in its root, as always. What
    /// `run`, `status`, `retry`, `cancel` and the dashboard open, so every one of them works on the same
    /// rows as the others on this host and on every host sharing the ledger.
    package static func open(
        _ config: PipelineConfig, clock: any WallClock = SystemClock(), observer: (@Sendable (EventRecord) -> Void)? = nil
    ) throws -> Ledger {
        guard let shared = config.sharedLedger else { return try Ledger(path: config.paths.ledger.path, clock: clock, observer: observer) }
        return Ledger(shared: try PostgresLedger(shared, clock: clock), observer: observer)
    }

    /// Whether this ledger is the shared PostgreSQL one.
    package var isShared: Bool {
        if case .postgres = backend { return true }
        return false
    }

    /// Lets go of the shared ledger's connections (a pipeline closing at a reload or at the end); nothing
    /// to do for SQLite, whose pool closes when the last copy of this ledger goes.
    package func close() {
        if case .postgres(let pg) = backend { pg.close() }
    }

    /// Gives back the writer connection's page cache once the pipeline has gone quiet (issue 30): each
    /// writer kept ~290 KiB of pages read at start-up and by its last busy spell (`PRAGMA shrink_memory`
    /// is `sqlite3_db_release_memory`). Its prepared statements and the readers stay: the stages' 30 s
    /// safety-net looks would prepare and open them again at once. Those looks read pages again, yet an
    /// idle daemon with 8 pipelines still holds ~1.1 MiB less anonymous memory a minute on (17.3–17.6
    /// against 18.6–18.7 MiB, 2026-12-06). Then `then` is called — the process's compaction
    /// (`IdleCompaction`: glibc's `malloc_trim` and the mapped code, once every pipeline's writer has
    /// shrunk), after SQLite's own calls here, so the code they touched goes too. The shrink runs on the
    /// writer's own queue, after whatever write is under way; `then` must be quick (it only counts the
    /// shrinks done: the compaction itself runs on a utility queue, so no write waits on it). Nothing to
    /// shrink on the shared ledger, whose connections live in PostgreSQL's pool: `then` is called at once.
    package func releaseIdleMemory(then: @escaping @Sendable () -> Void = {}) {
        guard case .sqlite(let pool) = backend else { return then() }
        pool.asyncWriteWithoutTransaction { db in
            try? db.execute(sql: "PRAGMA shrink_memory")
            then()
        }
    }
}

extension Ledger {
    /// A copy of this ledger in a new SQLite file at `path`, read without changing it: what `omnipost
    /// plan` tries drops on. The SQLite file is copied whole (`snapshot(of:to:)`); the shared ledger's
    /// rows are copied table by table (`PostgresLedger.snapshot(to:)`).
    package func snapshot(to path: String) throws {
        switch backend {
        case .sqlite(let pool):
            let copy = try DatabaseQueue(path: path)
            try pool.backup(to: copy)
            try copy.close()
        case .postgres(let pg): try pg.snapshot(to: path)
        }
    }
}
