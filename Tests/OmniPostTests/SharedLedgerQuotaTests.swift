import Foundation
import OmniPostCore
import OmniPostLedger
import Testing

/// One quota and one breaker per account across hosts: two daemons' ledgers on one PostgreSQL database
/// claim uploads at once through `claimDelivery`, the claim the daemon makes, with its gates.
@Suite(.enabled(if: PostgresServer.available, "PostgreSQL is not installed (make test installs it)"))
struct SharedLedgerQuotaTests {
    /// Three posts a day on the account, twelve uploads ready, two hosts claiming as fast as they can:
    /// three claimed in all, three units spent — the account's lock makes the second host read the
    /// first one's spend before it decides (without it both read "2 of 3 used" and both go).
    @Test func twoHostsSpendOneQuotaBetweenThem() async throws {
        try await withPostgresDatabase { server, database in
            let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
            let shared = try (0..<2).map { _ in try SharedLedgerClaimTests.open(server, database, clock: clock, pool: 2) }
            defer { shared.forEach { $0.close() } }
            let hosts = shared.map { Ledger(shared: $0) }
            for i in 0..<12 {
                let drop = "d\(i)"
                #expect(try hosts[0].createDrop(DropRecord(id: drop, pipeline: "p", stem: drop, clipPath: "\(drop).mp4", sidecarPath: nil, now: 1), fileIDs: []))
                try hosts[0].insertDeliveries([
                    DeliveryRecord(
                        dropId: drop, target: "tiktok:main", platform: "tiktok", account: "main", profile: "tiktok", state: .ready,
                        plan: .pass, planDetail: nil, specKey: nil, metadataJson: "{}", contentSha256: drop, notBefore: nil, now: 1)
                ])
            }
            let gate = QueueGate(quotas: ["tiktok": [QuotaRule(name: "posts", limit: 3, window: .rolling(seconds: 86400))]])
            let claimed = Claimed()
            let done = DispatchGroup()
            for i in 0..<2 {
                done.enter()
                Thread {
                    // Each host looks until a look finds nothing to claim (the rest are then held by the quota).
                    while let c = try? hosts[i].claimDelivery(owner: "host\(i):\(100 + i):t", lease: 600, gate: gate) { claimed.add(i, c.delivery.id ?? 0) }
                    done.leave()
                }.start()
            }
            done.wait()
            #expect(claimed.all.count == 3, "three posts fit in the account's day, whichever host claimed them")
            #expect(Set(claimed.all.map(\.id)).count == claimed.all.count, "no upload claimed twice")
            #expect(try hosts[1].quotaUse(accounts: ["tiktok:main"], rules: gate.quotas).first?.used == 3)
            let held = try hosts[1].allDeliveries().filter { $0.state == .ready }
            #expect(held.count == 9 && held.allSatisfy { $0.gate == "quota" && $0.errorCode == "quota_exhausted" })
        }
    }

    /// A breaker opened by one host's failures holds the other host's uploads on that account.
    @Test func aBreakerOpenedOnOneHostHoldsTheOther() async throws {
        try await withPostgresDatabase { server, database in
            let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
            let shared = try (0..<2).map { _ in try SharedLedgerClaimTests.open(server, database, clock: clock) }
            defer { shared.forEach { $0.close() } }
            let a = Ledger(shared: shared[0]), b = Ledger(shared: shared[1])
            for i in 0..<3 {
                let drop = "d\(i)"
                _ = try a.createDrop(DropRecord(id: drop, pipeline: "p", stem: drop, clipPath: "\(drop).mp4", sidecarPath: nil, now: 1), fileIDs: [])
                try a.insertDeliveries([
                    DeliveryRecord(
                        dropId: drop, target: "youtube:main", platform: "youtube", account: "main", profile: "youtube", state: .ready,
                        plan: .pass, planDetail: nil, specKey: nil, metadataJson: "{}", contentSha256: drop, notBefore: nil, now: 1)
                ])
            }
            let policy = BreakerPolicy(failures: 1, cooldown: 600)
            let gate = QueueGate(breaker: policy)
            let c = try #require(try a.claimDelivery(owner: "a:1:t", lease: 60, gate: gate))
            try a.transitionDelivery(
                c.delivery.id!, from: .uploading, to: .ready, stage: "upload", expectOwner: "a:1:t",
                attempt: AttemptResult(attemptId: c.attemptId, outcome: "retry", errorCode: "network", breaker: .failure, policy: policy))
            #expect(try b.breakers().first?.state == .open)
            // Host b finds every upload of the account held until the cool-down ends.
            #expect(try b.claimDelivery(owner: "b:2:t", lease: 60, gate: gate) == nil)
            #expect(try b.allDeliveries().allSatisfy { $0.gate == "breaker" })
        }
    }
}
