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
