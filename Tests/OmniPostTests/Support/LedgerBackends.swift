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

/// One drop with one YouTube delivery, claimed by `owner`: a delivery in `uploading`, for the tests of
/// what an upload writes (its checkpoints, its lease, its move to `published`).
func uploadingDelivery(_ l: Ledger, owner: String) throws -> DeliveryRecord {
    _ = try l.createDrop(DropRecord(id: "d1", pipeline: "p", stem: "a", clipPath: "a.mp4", sidecarPath: nil, now: 1), fileIDs: [])
    try l.insertDeliveries([
        DeliveryRecord(
            dropId: "d1", target: "youtube:main", platform: "youtube", account: "main", profile: "youtube",
            state: .ready, plan: .pass, planDetail: nil, specKey: nil, metadataJson: "{}", contentSha256: "abc", notBefore: nil, now: 1)
    ])
    return try #require(try l.claimDelivery(owner: owner, lease: 60)).delivery
}
