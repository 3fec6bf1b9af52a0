import Foundation
import OmniPostCore
import OmniPostLedger

/// What the decisions lock adds to each validation on the shared ledger (issue 27, the schedule shared
/// across hosts): `Ledger.holdDecisions` taken and let go `rounds` times by one host (a connection of its
/// own opened, the advisory lock taken, let go, the connection closed), and by two hosts at once, each
/// waiting for the other. Against BENCH_PG_URL's `_takeover` database; without PostgreSQL, nothing.
func sharedDecisionLockRows(rounds: Int) async throws -> [[String]] {
    guard let url = ProcessInfo.processInfo.environment["BENCH_PG_URL"] else { return [] }
    var config = try PostgresLedgerConfig.parse(url: url)
    config.database += "_takeover"
    config.passwordFile = ProcessInfo.processInfo.environment["BENCH_PG_PASSWORD_FILE"].map { URL(fileURLWithPath: $0) }
    config.poolSize = 1
    let hosts = try (0..<2).map { _ in Ledger(shared: try PostgresLedger(config)) }
    defer { hosts.forEach { $0.close() } }
    func hold(_ l: Ledger) async throws {
        for _ in 0..<rounds { try await l.holdDecisions().release() }
    }
    let start = ContinuousClock.now
    try await hold(hosts[0])
    let alone = (ContinuousClock.now - start).seconds
    let both = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { g in
        for h in hosts { g.addTask { try await hold(h) } }
        try await g.waitForAll()
    }
    let twoHosts = (ContinuousClock.now - both).seconds
    return [
        [
            "decisions lock per validation (PostgreSQL, \(rounds) holds)", String(format: "%.1f ms", alone / Double(rounds) * 1000),
            String(format: "%.1f ms", twoHosts / Double(2 * rounds) * 1000), "one host; baseline: two hosts at once, per hold"
        ]
    ]
}
