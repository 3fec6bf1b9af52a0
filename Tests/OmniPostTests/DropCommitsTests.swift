import Foundation
import OmniPostCore
@testable import OmniPostLedger
import Testing

/// Issue 30's cheap drops, the ledger's side: commits that followed each other with nothing outside
/// between them are one commit now — and each is still all or nothing. (What a drop costs is `make
/// bench`'s, BENCH_ONLY=drops.)
@Suite struct DropCommitsTests {
    /// A validated drop with two planned deliveries.
    static func validated(_ l: Ledger) throws -> [Int64] {
        #expect(try l.createDrop(DropRecord(id: "d1", pipeline: "p", stem: "r", clipPath: "r.mp4", sidecarPath: nil, now: 1), fileIDs: []))
        try l.transitionDrop("d1", from: .received, to: .validated, stage: "validate")
        let ds = ["x:main", "bluesky:main"].map { t in
            DeliveryRecord(
                dropId: "d1", target: t, platform: String(t.prefix { $0 != ":" }), account: "main", profile: "x", state: .planned,
                plan: .pass, planDetail: nil, specKey: nil, metadataJson: "{}", contentSha256: "d1", notBefore: nil, now: 1)
        }
        try l.insertDeliveries(ds)
        return try l.deliveries(forDrop: "d1").compactMap(\.id)
    }

    /// The convert stage's decision: every delivery made ready (or failed) and the drop converted, in one
    /// commit; a delivery that cannot move (not planned) undoes the whole — the drop stays validated.
    @Test(arguments: LedgerBackendKind.available) func deliveriesMoveWithTheirDropInOneCommit(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend) { l in
            let ids = try Self.validated(l)
            // One of them is no longer planned: refused, and nothing moved.
            try l.transitionDelivery(ids[1], from: .planned, to: .cancelled, stage: "control")
            #expect(throws: OmniError.self) {
                try l.transitionDrop(
                    "d1", from: .validated, to: .converted, stage: "convert",
                    moving: ids.map { id in Ledger.DeliveryMove(id, from: .planned, to: .ready, detail: "pass-through") { $0.renditionPath = "/r.mp4" } })
            }
            #expect(try l.drop("d1")?.state == .validated)
            #expect(try l.delivery(ids[0])?.state == .planned)
            // The one still planned moves with its drop; the event of each is recorded.
            try l.transitionDrop(
                "d1", from: .validated, to: .converted, stage: "convert",
                moving: [Ledger.DeliveryMove(ids[0], from: .planned, to: .ready, detail: "pass-through") { $0.renditionPath = "/r.mp4" }])
            #expect(try l.drop("d1")?.state == .converted)
            let ready = try #require(try l.delivery(ids[0]))
            #expect(ready.state == .ready && ready.renditionPath == "/r.mp4")
            let events = try l.events(forDrop: "d1")
            #expect(events.contains { $0.deliveryId == ids[0] && $0.toState == "ready" && $0.stage == "convert" })
            #expect(events.contains { $0.deliveryId == nil && $0.toState == "converted" })
        }
    }

    /// A finished drop, its deliveries and its filing claimed in one commit, the folder named from what
    /// the deliveries say; claimed once; with another host's filing live, the drop comes without a filing.
    @Test(arguments: LedgerBackendKind.available) func aFinishedDropIsClaimedWithItsDeliveriesAndItsFiling(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend) { l in
            let ids = try Self.validated(l)
            try l.transitionDrop(
                "d1", from: .validated, to: .converted, stage: "convert",
                moving: ids.map { Ledger.DeliveryMove($0, from: .planned, to: .ready, detail: nil) { _ in } })
            #expect(try l.claimFinishedDropToFile(owner: "a", host: "h", lease: 60, filingLease: 60, folder: { _, _ in "x" }) == nil, "deliveries not final")
            for _ in ids {
                let c = try #require(try l.claimDelivery(owner: "u", lease: 60))
                try l.transitionDelivery(c.delivery.id!, from: .uploading, to: .published, stage: "upload")
            }
            let claimed = try #require(
                try l.claimFinishedDropToFile(
                    owner: "a", host: "h", lease: 60, filingLease: 60,
                    folder: { d, ds in ds.allSatisfy { $0.state == .published } ? "archive/2026/12/06/\(d.id)" : "failed/\(d.id)" }))
            #expect(claimed.drop.id == "d1")
            #expect(claimed.deliveries.map(\.state) == [.published, .published])
            #expect(claimed.filing?.folder == "archive/2026/12/06/d1" && claimed.filing?.takenOver == false)
            #expect(try l.filing(of: "d1").map { "\($0.owner) \($0.folder) \($0.done)" } == "a archive/2026/12/06/d1 false")
            #expect(try l.claimFinishedDropToFile(owner: "b", host: "h2", lease: 60, filingLease: 60, folder: { _, _ in "x" }) == nil, "claimed once")
        }
    }

    /// The watcher's "taken as it is after waiting" note rides in the commit that records the file.
    @Test func aGaveUpWaitingNoteIsWrittenWithTheFilesRecord() throws {
        let dir = try TempDir()
        let l = try Ledger(path: dir.file("l.sqlite").path)
        let r = try l.recordFile(path: "b.yaml", size: 3, mtime: 1, inode: 9, role: .sidecar, gaveUpWaiting: "b.yaml: it does not parse yet; taken as it is after 2 s")
        #expect(r.isNew)
        let events = try l.events(stage: "watch")
        #expect(events.map(\.toState) == ["gave_up_waiting", "complete"], "\(events.map(\.toState))")
        #expect(events.first?.detail?.contains("taken as it is") == true)
    }
}
