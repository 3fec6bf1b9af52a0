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
}
