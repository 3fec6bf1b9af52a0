import Foundation
import OmniPostCore
import OmniPostLedger
import Testing

/// Drop claims on the shared ledger run on the heartbeat, as uploads do (issue 27): a drop claim's lease
/// is the host's lease, the heartbeat renews the drops a host has in hand and their filings, and a dead
/// host's validation, conversion or filing is taken over once its lease lapses — not after the stage's
/// fixed 5 minutes or hour. Two ledgers on one PostgreSQL database are two hosts; the clock is the test's.
@Suite(.serialized, .enabled(if: PostgresServer.available, "PostgreSQL is not installed (make test installs it)"))
struct SharedDropLeasesTests {
    static let lease = 30.0
    static let a = "box-a:101:t", b = "box-b:202:t"

    static func drop(_ l: Ledger, _ id: String, to state: DropState) throws {
        #expect(try l.createDrop(DropRecord(id: id, pipeline: "p", stem: id, clipPath: "\(id).mp4", sidecarPath: nil, now: 1), fileIDs: []))
        if state == .received { return }
        try l.transitionDrop(id, from: .received, to: .validated, stage: "validate")
        if state == .validated { return }
        try l.transitionDrop(id, from: .validated, to: .converted, stage: "convert")
    }

    static func beat(_ l: Ledger, _ owner: String, holding: [String]) throws {
        try l.beat(owner: owner, host: Ledger.host(ofOwner: owner), pid: 1, roles: [], lease: lease, holding: holding)
    }

    static func withHosts(_ body: (Ledger, Ledger, TestClock) async throws -> Void) async throws {
        try await withPostgresDatabase { server, database in
            let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
            let shared = try (0..<2).map { _ in try SharedLedgerClaimTests.open(server, database, clock: clock, pool: 2) }
            defer { shared.forEach { $0.close() } }
            try await body(Ledger(shared: shared[0]), Ledger(shared: shared[1]), clock)
        }
    }

    /// A conversion that runs past the old hour, on a host that keeps beating: the other host never takes
    /// it. Then the host dies (stops beating): the other takes it one host lease after its last beat.
    @Test func aLiveHostsLongConversionIsNeverTakenAndADeadHostsIsTakenOnceItsLeaseLapses() async throws {
        try await Self.withHosts { a, b, clock in
            try Self.drop(a, "long", to: .validated)
            let held = try #require(try a.claimDropToConvert(owner: Self.a, lease: Self.lease))
            var taken = 0
            // 75 minutes of beats every 10 s: longer than the fixed hour a conversion's claim used to run.
            for _ in 0..<450 {
                clock.advance(10)
                try Self.beat(a, Self.a, holding: [held.id])
                if try b.claimDropToConvert(owner: Self.b, lease: Self.lease) != nil { taken += 1 }
            }
            #expect(taken == 0, "a live host's conversion was taken \(taken) times")
            #expect(try b.heldClaims().map { "\($0.host) \($0.kind) \($0.id)" } == ["box-a convert long"])
            // box-a dies: no more beats. Not yet at 29 s; at 31 s box-b takes it.
            clock.advance(29)
            #expect(try b.claimDropToConvert(owner: Self.b, lease: Self.lease) == nil)
            clock.advance(2)
            #expect(try b.claimDropToConvert(owner: Self.b, lease: Self.lease)?.id == "long")
        }
    }

    /// A dead host's validation and its half-done filing are taken over once its lease lapses; the filing
    /// into the folder it chose. While it beats, neither is.
    @Test func aDeadHostsValidationAndFilingAreTakenOverAfterItsLease() async throws {
        try await Self.withHosts { a, b, clock in
            try Self.drop(a, "fresh", to: .received)
            try Self.drop(a, "done", to: .converted)
            #expect(try a.claimDropToValidate(owner: Self.a, after: nil, lease: Self.lease)?.drop.id == "fresh")
            #expect(try a.claimDropReadyToArchive(owner: Self.a, lease: Self.lease)?.id == "done")
            let folder = "archive/2027/01/15/done"
            #expect(try a.claimFiling(dropId: "done", owner: Self.a, host: "box-a", folder: folder, lease: Self.lease)?.takenOver == false)
            for _ in 0..<12 {
                clock.advance(10)
                try Self.beat(a, Self.a, holding: ["done", "fresh"])
                #expect(try b.claimDropToValidate(owner: Self.b, after: nil, lease: Self.lease) == nil)
                #expect(try b.claimDropReadyToArchive(owner: Self.b, lease: Self.lease) == nil)
                #expect(try b.claimFiling(dropId: "done", owner: Self.b, host: "box-b", folder: "archive/elsewhere", lease: Self.lease) == nil)
            }
            clock.advance(31)
            #expect(try b.claimDropToValidate(owner: Self.b, after: nil, lease: Self.lease)?.drop.id == "fresh")
            #expect(try b.claimDropReadyToArchive(owner: Self.b, lease: Self.lease)?.id == "done")
            let filing = try #require(try b.claimFiling(dropId: "done", owner: Self.b, host: "box-b", folder: "archive/elsewhere", lease: Self.lease))
            #expect(filing.takenOver && filing.folder == folder && filing.previousOwner == Self.a)
        }
    }

    /// A drop a live host let go without moving it (its step failed) is no longer renewed: its lease lapses
    /// one host lease after the last beat that held it, though the host keeps beating, and another host
    /// may try it.
    @Test func aDropLetGoByALiveHostLapsesAndIsTriedAgain() async throws {
        try await Self.withHosts { a, b, clock in
            try Self.drop(a, "bad", to: .validated)
            _ = try #require(try a.claimDropToConvert(owner: Self.a, lease: Self.lease))
            clock.advance(10)
            try Self.beat(a, Self.a, holding: ["bad"])
            // The step fails: the drop is out of hand. box-a goes on beating.
            for _ in 0..<2 {
                clock.advance(10)
                try Self.beat(a, Self.a, holding: [])
                #expect(try b.claimDropToConvert(owner: Self.b, lease: Self.lease) == nil)
            }
            clock.advance(11)
            try Self.beat(a, Self.a, holding: [])
            #expect(try b.claimDropToConvert(owner: Self.b, lease: Self.lease)?.id == "bad")
        }
    }

    /// An upload whose task ended without its outcome recorded (the database was away when it tried) is no
    /// longer renewed though its host beats on: it lapses and another host's claim takes it over, the
    /// attempt left open ending as interrupted. One still running is renewed and never taken.
    @Test func anUploadWhoseTaskEndedUnrecordedLapsesThoughItsHostBeats() async throws {
        try await Self.withHosts { a, b, clock in
            try Self.drop(a, "up", to: .converted)
            try a.insertDeliveries([
                DeliveryRecord(
                    dropId: "up", target: "youtube:main", platform: "youtube", account: "main", profile: "youtube", state: .ready,
                    plan: .pass, planDetail: nil, specKey: nil, metadataJson: "{}", contentSha256: "up", notBefore: nil, now: 1)
            ])
            let claim = try #require(try a.claimDelivery(owner: Self.a, lease: Self.lease))
            let id = try #require(claim.delivery.id)
            for _ in 0..<6 {
                clock.advance(10)
                #expect(try a.beat(owner: Self.a, host: "box-a", pid: 1, roles: [], lease: Self.lease, uploads: [id]) == 1)
                #expect(try b.claimDelivery(owner: Self.b, lease: Self.lease) == nil, "running on box-a")
            }
            // Its task ends unrecorded; box-a beats on without it.
            for _ in 0..<3 {
                clock.advance(10)
                #expect(try a.beat(owner: Self.a, host: "box-a", pid: 1, roles: [], lease: Self.lease, uploads: []) == 0)
            }
            clock.advance(1)
            #expect(try b.claimDelivery(owner: Self.b, lease: Self.lease)?.delivery.id == id)
            #expect(try b.attempts(forDelivery: id).map(\.outcome) == ["interrupted", nil])
        }
    }

    /// One machine's SQLite ledger keeps its stages' own drop leases: the heartbeat does not stretch them.
    @Test func onOneMachineADropsLeaseIsTheStagesOwn() throws {
        let dir = try TempDir()
        let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
        let l = try Ledger(path: dir.file("ledger.sqlite").path, clock: clock)
        try Self.drop(l, "long", to: .validated)
        let held = try #require(try l.claimDropToConvert(owner: Self.a, lease: 3600))
        clock.advance(3590)
        try Self.beat(l, Self.a, holding: [held.id])
        #expect(try l.drop("long")?.leaseExpiry == 1_800_000_000 + 3600)
    }
}
