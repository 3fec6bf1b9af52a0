import Foundation
import OmniPostCore
@testable import OmniPostLedger
import Testing

/// Issue 30 (r16): a stage's claim that finds nothing takes no write transaction on this host's SQLite
/// ledger — it looks in a read first (`Ledger.worthClaiming`) — and a drop made claimable right after
/// such an empty look is taken by the next claim, on either backend (the shared PostgreSQL ledger claims
/// in its transaction straight away, `FOR UPDATE SKIP LOCKED`, as before).
@Suite struct EmptyClaimTests {
    /// Every claim the pipeline's stages ask when rung, asked of a ledger holding nothing for it.
    static func askEveryClaim(_ l: Ledger) throws -> [String] {
        var found: [String] = []
        if try l.claimDropToValidate(owner: "o", after: nil) != nil { found.append("validate") }
        if try l.claimDropToValidate(owner: "o", after: "dir:x/", lane: .clipsAtMost(1 << 20)) != nil { found.append("validate.small") }
        if try l.claimDropToConvert(owner: "o", lane: .any) != nil { found.append("convert") }
        if try l.claimDropToConvert(owner: "o", lane: .quick) != nil { found.append("convert.quick") }
        if try l.claimRejectedDropToFile(owner: "o", host: "h", lease: 60, filingLease: 60, folder: { "failed/\($0.id)" }) != nil { found.append("rejected") }
        if try l.claimRejectedDropToFile(owner: "o", host: "h", lease: 60, filingLease: 60, alone: true, folder: { "failed/\($0.id)" }) != nil {
            found.append("rejected.alone")
        }
        if try l.claimFinishedDropToFile(owner: "o", host: "h", lease: 60, filingLease: 60, folder: { d, _ in "archive/\(d.id)" }) != nil { found.append("finished") }
        if try l.claimDelivery(owner: "o", lease: 60) != nil { found.append("upload") }
        if try l.enrolPublishedPosts() > 0 { found.append("enrol") }
        return found
    }

    /// Counted on the SQLite ledger's connections: none of the empty claims begins a write transaction (each
    /// did: `BEGIN IMMEDIATE`, the write lock, an empty commit), and the archive's one look for both its
    /// kinds answers in one read.
    @Test func anEmptyClaimTakesNoWriteTransaction() throws {
        let dir = try TempDir()
        let path = dir.file("ledger.sqlite").path
        let statements = SQLStatementCount.watch(path: path)
        defer { SQLStatementCount.unwatch(path: path) }
        let l = try Ledger(path: path)
        // A drop in flight that no claim may take (validated, its lease held): the claims' conditions are asked, not an empty table.
        #expect(try l.createDrop(DropRecord(id: "held", pipeline: "p", stem: "h", clipPath: "h.mp4", sidecarPath: nil, now: 1), fileIDs: []))
        try l.transitionDrop("held", from: .received, to: .validated, stage: "validate")
        #expect(try l.claimDropToConvert(owner: "busy", lease: 3600)?.id == "held")
        statements.reset()
        #expect(try Self.askEveryClaim(l) == [])
        let work = try l.filingWork()
        #expect(work.rejected == false && work.finished == false)
        let texts = statements.byText
        let writes = texts.filter { $0.key.hasPrefix("BEGIN IMMEDIATE") }.values.reduce(0, +)
        let begins = statements.byKind["BEGIN", default: 0]
        #expect(writes == 0, "write transactions for nothing to claim: \(texts.filter { $0.key.hasPrefix("BEGIN") })")
        // One read a claim asked, and one for the archive's two kinds.
        #expect(begins == 10, "transactions: \(begins)")
        #expect(statements.byKind["UPDATE", default: 0] == 0 && statements.byKind["INSERT", default: 0] == 0)
    }

    /// Right after each claim came back empty, the drop it takes appears — and the next claim takes it, on
    /// either backend: a look that found nothing leaves nothing behind it.
    @Test(arguments: LedgerBackendKind.available) func aDropClaimableRightAfterAnEmptyLookIsTaken(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend) { l in
            #expect(try Self.askEveryClaim(l) == [])
            #expect(try l.createDrop(DropRecord(id: "d1", pipeline: "p", stem: "a", clipPath: "a.mp4", sidecarPath: nil, now: 1), fileIDs: []))
            #expect(try l.claimDropToValidate(owner: "o", after: nil)?.drop.id == "d1")
            #expect(try l.claimDropToConvert(owner: "o", lane: .quick) == nil)
            try l.transitionDrop("d1", from: .received, to: .validated, stage: "validate")
            try l.insertDeliveries([
                DeliveryRecord(
                    dropId: "d1", target: "folder:main", platform: "folder", account: "main", profile: "x", state: .planned, plan: .pass, planDetail: nil,
                    specKey: nil, metadataJson: "{}", contentSha256: "d1", notBefore: nil, now: 1)
            ])
            #expect(try l.claimDropToConvert(owner: "o", lane: .quick)?.id == "d1")
            #expect(try l.claimFinishedDropToFile(owner: "o", host: "h", lease: 60, filingLease: 60, folder: { d, _ in "archive/\(d.id)" }) == nil)
            let id = try #require(try l.deliveries(forDrop: "d1").first?.id)
            try l.transitionDrop(
                "d1", from: .validated, to: .converted, stage: "convert",
                moving: [Ledger.DeliveryMove(id, from: .planned, to: .ready, detail: nil) { $0.renditionPath = "/a.mp4" }])
            let claimed = try #require(try l.claimDelivery(owner: "u", lease: 60))
            #expect(try l.enrolPublishedPosts() == 0)
            try l.transitionDelivery(claimed.delivery.id!, from: .uploading, to: .published, stage: "upload")
            #expect(try l.enrolPublishedPosts() == 1)
            let work = try l.filingWork()
            // (The shared ledger is not asked: both kinds are claimed, as before.)
            #expect(work.finished && work.rejected == (backend == .postgres))
            #expect(try l.claimFinishedDropToFile(owner: "o", host: "h", lease: 60, filingLease: 60, folder: { d, _ in "archive/\(d.id)" })?.drop.id == "d1")
            // A rejection made right after the rejected claims found nothing.
            #expect(try l.claimRejectedDropToFile(owner: "o", host: "h", lease: 60, filingLease: 60, alone: true, folder: { "failed/\($0.id)" }) == nil)
            #expect(try l.createDrop(DropRecord(id: "d2", pipeline: "p", stem: "b", clipPath: nil, sidecarPath: "b.yaml", now: 2), fileIDs: []))
            try l.transitionDrop("d2", from: .received, to: .rejected, stage: "validate")
            #expect(try l.filingWork().rejected)
            let rejected = try #require(
                try l.claimRejectedDropToFile(owner: "o", host: "h", lease: 60, filingLease: 60, alone: true, folder: { "failed/\($0.id)" }))
            #expect(rejected.drop.id == "d2" && rejected.filing?.folder == "failed/d2")
            // A lease let go (a filing that failed): claimable again at once.
            _ = try l.releaseLeases(owner: "o")
            #expect(try l.claimRejectedDropToFile(owner: "o2", host: "h", lease: 60, filingLease: 60, folder: { "failed/\($0.id)" })?.drop.id == "d2")
        }
    }
}
