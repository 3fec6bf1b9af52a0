import Foundation
import GRDB
import OmniPostCore
@testable import OmniPostLedger
import Testing

/// What a power cut may not take back (docs/upload-engine.md, "What a power cut keeps"): the SQLite
/// ledger commits with `synchronous = NORMAL` (a killed process loses nothing; a power cut may lose the
/// commits since the log was last synced), and commits what an outside effect comes after — a session
/// before its bytes, a phase before its post, a post, a follow-up's intent — with `FULL`, which syncs
/// the log at that commit. Read here from the statements SQLite ran on the writer's connection.
@Suite struct LedgerDurabilityTests {
    /// The statements one ledger operation ran on the writer, in order.
    final class Statements: @unchecked Sendable {
        private let lock = NSLock()
        private var all: [String] = []
        func add(_ s: String) { lock.withLock { all.append(s) } }
        func take() -> [String] { lock.withLock { defer { all = [] }; return all } }
    }

    /// Whether the statements committed a transaction with the log synced: `FULL` set before it began,
    /// `NORMAL` put back after its commit.
    static func syncedCommit(_ s: [String]) -> Bool {
        guard let full = s.firstIndex(of: "PRAGMA synchronous = FULL"),
            let commit = s.firstIndex(where: { $0.hasPrefix("COMMIT") }),
            let normal = s.lastIndex(of: "PRAGMA synchronous = NORMAL")
        else { return false }
        return full < commit && commit < normal && !s[..<full].contains { $0.hasPrefix("BEGIN") }
    }

    static func synchronous(_ l: Ledger) throws -> Int? {
        try l.writer.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") }
    }

    @Test func aSessionAndAPostAreSyncedAtTheirCommitAndAPartsOffsetIsNot() throws {
        let dir = try TempDir()
        let l = try Ledger(path: dir.url.appendingPathComponent("ledger.sqlite").path)
        let d = try uploadingDelivery(l, owner: "w1")
        let ran = Statements()
        try l.writer.writeWithoutTransaction { db in db.trace { ran.add("\($0)") } }
        #expect(try Self.synchronous(l) == 1, "NORMAL for every other commit")
        _ = ran.take()

        // The session, before its first byte.
        try l.checkpoint(deliveryId: d.id!, owner: "w1", lease: 60, session: "https://upload/1", confirmedOffset: 0, bytesSent: 0, durable: true)
        let session = ran.take()
        #expect(Self.syncedCommit(session), "\(session)")
        #expect(session.contains { $0.hasPrefix("UPDATE deliveries") })

        // A part's confirmed offset: committed, not synced.
        try l.checkpoint(deliveryId: d.id!, owner: "w1", lease: 60, session: "https://upload/1", confirmedOffset: 8, bytesSent: 8, durable: false)
        let part = ran.take()
        #expect(part.contains { $0.hasPrefix("COMMIT") } && !part.contains { $0.hasPrefix("PRAGMA synchronous") }, "\(part)")

        // A synced commit whose body throws (the lease is another's) still puts NORMAL back.
        #expect(throws: OmniError.self) {
            try l.checkpoint(deliveryId: d.id!, owner: "intruder", lease: 60, session: "x", confirmedOffset: 0, bytesSent: 0, durable: true)
        }
        #expect(ran.take().last == "PRAGMA synchronous = NORMAL")
        #expect(try Self.synchronous(l) == 1)
        _ = ran.take()

        // The post.
        try l.transitionDelivery(d.id!, from: .uploading, to: .published, stage: "upload", expectOwner: "w1") { $0.remoteId = "v1" }
        let post = ran.take()
        #expect(Self.syncedCommit(post), "\(post)")
        #expect(try l.delivery(d.id!)?.state == .published && l.delivery(d.id!)?.remoteSession == "https://upload/1")

        // A follow-up's intent comes before its request; what it made is reported, not acted on.
        try l.recordFollowUp(deliveryId: d.id!, key: "comment", kind: "comment", state: .intended)
        #expect(Self.syncedCommit(ran.take()))
        try l.recordFollowUp(deliveryId: d.id!, key: "comment", kind: "comment", state: .made, remoteId: "c1")
        #expect(!ran.take().contains { $0.hasPrefix("PRAGMA synchronous") })
        #expect(try Self.synchronous(l) == 1)
    }

    /// PostgreSQL, on a server that syncs every commit (its default, `synchronous_commit = on`): a part's
    /// offset turns that off for its own transaction (`SET LOCAL`, before its UPDATE), as SQLite's `NORMAL`
    /// commits it; the session before its bytes keeps the server's. The offset is committed all the same
    /// (another connection reads it), and the next transaction on the same connection is synced again.
    @Test(.enabled(if: PostgresServer.available), .timeLimit(.minutes(2)))
    func onPostgreSQLAPartsOffsetDoesNotWaitForItsWALAndTheSessionDoes() async throws {
        let server = try await offPool { try PostgresServer(synchronousCommit: true) }
        defer { server.stop() }
        // Off the cooperative pool: the ledger's PostgreSQL calls and psql block their thread.
        let (session, part, offset, after) = try await offPool { () -> ([String], [String], String, String?) in
            let database = try server.createDatabase()
            // One connection: what `SET LOCAL` left behind, if anything, would be on it.
            let shared = try SharedLedgerClaimTests.open(server, database, clock: SystemClock(), pool: 1)
            defer { shared.close() }
            let l = Ledger(shared: shared)
            let d = try uploadingDelivery(l, owner: "w1")
            let ran = Statements()
            shared.statementObserver.withLock { $0 = { ran.add($0) } }
            try l.checkpoint(deliveryId: d.id!, owner: "w1", lease: 60, session: "https://upload/1", confirmedOffset: 0, bytesSent: 0, durable: true)
            let session = ran.take()
            try l.checkpoint(deliveryId: d.id!, owner: "w1", lease: 60, session: "https://upload/1", confirmedOffset: 8, bytesSent: 8, durable: false)
            let part = ran.take()
            let offset = try server.psql("SELECT confirmed_offset FROM deliveries WHERE id = \(d.id!)", database: database)
            let after = try shared.write { tx in try tx.rows("SHOW synchronous_commit", []).first?.text("synchronous_commit") }
            return (session, part, offset, after)
        }
        #expect(session.contains("COMMIT") && !session.contains { $0.contains("synchronous_commit") }, "\(session)")
        let set = part.firstIndex(of: "SET LOCAL synchronous_commit = off")
        let update = part.firstIndex { $0.contains("UPDATE deliveries") }
        let commit = part.lastIndex(of: "COMMIT")
        #expect(set != nil && update != nil && commit != nil && set! < update! && update! < commit!, "\(part)")
        #expect(offset.trimmingCharacters(in: .whitespacesAndNewlines) == "8", "committed: another connection reads it")
        #expect(after == "on", "SET LOCAL ends with its transaction")
    }
}
