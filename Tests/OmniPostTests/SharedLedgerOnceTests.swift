import Foundation
import OmniPostCore
@testable import OmniPostLedger
import Testing

/// What must happen once across hosts sharing one PostgreSQL ledger (issue 27): two ledgers on one
/// database — two hosts — doing the same thing at the same moment, each on a thread of its own; the
/// rows each one reads are locked (`FOR UPDATE`, or `SKIP LOCKED` for a claim), so exactly one acts.
@Suite(.enabled(if: PostgresServer.available, "PostgreSQL is not installed (make test installs it)"))
struct SharedLedgerOnceTests {
    static let t0 = 1_800_000_000.0

    /// Two hosts' ledgers on one new database.
    static func twoHosts<T>(_ body: ([Ledger]) async throws -> T) async throws -> T {
        try await withPostgresDatabase { server, database in
            let clock = TestClock(Date(timeIntervalSince1970: t0))
            let shared = try (0..<2).map { _ in try SharedLedgerClaimTests.open(server, database, clock: clock, pool: 2) }
            defer { shared.forEach { $0.close() } }
            return try await body(shared.map { Ledger(shared: $0) })
        }
    }

    /// Runs `body(host)` on both hosts at once, each on a thread of its own, and gives back what each did.
    static func atOnce<T: Sendable>(_ body: @escaping @Sendable (Int) -> T) async throws -> [T] {
        try await offPool {
            let results = Results<T>()
            let start = DispatchSemaphore(value: 0), done = DispatchGroup()
            for i in 0..<2 {
                done.enter()
                Thread {
                    start.wait()
                    results.set(i, body(i))
                    done.leave()
                }.start()
            }
            start.signal()
            start.signal()
            done.wait()
            return results.all
        }
    }

    /// Forty messages waiting for one sink, both hosts' notifiers claiming as fast as they can: every
    /// message taken by exactly one host (the other's claim passes over rows being taken, and finds the
    /// taken ones no longer due).
    @Test func aNotificationIsSentByOneHostOnly() async throws {
        try await Self.twoHosts { hosts in
            for i in 0..<40 { try hosts[0].enqueueNotification(sink: "slack", key: "k\(i)", kind: "failed", title: "t\(i)", body: "b") }
            // Both hosts read the same fact: still one message.
            #expect(try !hosts[1].enqueueNotification(sink: "slack", key: "k0", kind: "failed", title: "t0", body: "b"))
            let taken = try await Self.atOnce { i -> [Int64] in
                var mine: [Int64] = []
                while let batch = try? hosts[i].claimDueNotifications(sink: "slack", now: Self.t0, limit: 3), !batch.isEmpty {
                    mine += batch.map(\.id)
                    try? hosts[i].markNotificationsSent(batch.map(\.id))
                }
                return mine
            }
            let all = taken.flatMap { $0 }
            #expect(all.count == 40 && Set(all).count == 40, "each message claimed once: \(taken.map(\.count))")
            #expect(try hosts[1].notifications().allSatisfy { $0.sentAt != nil && $0.attempts == 1 })
        }
    }

    /// Two people retry the same failed delivery on two hosts at once: it is requeued once, one event;
    /// the second retry reads it requeued and is refused.
    @Test func aRetryIsActedOnOnce() async throws {
        try await Self.twoHosts { hosts in
            let d = try LedgerFamiliesTests.plant(hosts[0], drop: "r", delivery: .failed)[0]
            let outcomes = try await Self.atOnce { i in (try? hosts[i].retryDelivery(d.id!, by: "host\(i)")) != nil }
            #expect(outcomes.filter { $0 }.count == 1, "\(outcomes)")
            #expect(try hosts[1].events(forDrop: "r").filter { $0.stage == "control" && $0.fromState == "failed" }.count == 1)
        }
    }

    /// A cancel on one host and the daemon's claim on the other at the same moment: either the cancel
    /// wins (nothing is claimed) or the claim does (the cancel is refused: it is being uploaded) — never
    /// both. And two cancels of one delivery: one cancels, the other finds it cancelled.
    @Test func aCancelAndAClaimNeverBothWin() async throws {
        try await Self.twoHosts { hosts in
            for round in 0..<5 {
                // An account of its own each round: an earlier round's upload in flight holds no cap on it.
                let d = try LedgerFamiliesTests.plant(hosts[0], drop: "c\(round)", targets: ["youtube:account\(round)"])[0]
                let won = try await Self.atOnce { i -> Bool in
                    i == 0
                        ? (try? hosts[0].cancelDelivery(d.id!, by: "ana")) != nil
                        : (try? hosts[1].claimDelivery(owner: "b:2:t", lease: 600)) != nil
                }
                #expect(won.filter { $0 }.count == 1, "round \(round): cancel \(won[0]), claim \(won[1])")
                let state = try hosts[1].delivery(d.id!)?.state
                #expect(state == (won[0] ? DeliveryState.cancelled : DeliveryState.uploading))
            }
            let d = try LedgerFamiliesTests.plant(hosts[0], drop: "twice")[0]
            let cancels = try await Self.atOnce { i in (try? hosts[i].cancelDelivery(d.id!, by: "host\(i)")) != nil }
            #expect(cancels.filter { $0 }.count == 1, "\(cancels)")
        }
    }

    /// Two people approve the same drop on two hosts at once: one approval, one event; the other is told
    /// the drop is not waiting any more.
    @Test func anApprovalIsDecidedOnce() async throws {
        try await Self.twoHosts { hosts in
            try LedgerFamiliesTests.plant(hosts[0], drop: "ap", targets: ["youtube:main", "x:main"])
            try hosts[0].writeSQL { sql, _ in try sql.run("UPDATE deliveries SET gate = 'approval', not_before = ? WHERE drop_id = 'ap'", Ledger.approvalHold) }
            let approved = try await Self.atOnce { i in (try? hosts[i].approve(dropId: "ap", by: "host\(i)", detail: "ok", release: [:])) != nil }
            #expect(approved.filter { $0 }.count == 1, "\(approved)")
            #expect(try hosts[1].events(forDrop: "ap").filter { $0.toState == EventKind.approved.rawValue }.count == 1)
        }
    }
}

final class Results<T: Sendable>: @unchecked Sendable {  // under `lock`
    private let lock = NSLock()
    private var items: [Int: T] = [:]
    func set(_ i: Int, _ v: T) { lock.withLock { items[i] = v } }
    var all: [T] { lock.withLock { items.keys.sorted().map { items[$0]! } } }
}
