import Foundation
import OmniPostCore
import OmniPostLedger

/// Claims per second from a queue of `deliveries` ready uploads: the upload lease (`DeliveryLeases`) on
/// the shared PostgreSQL ledger with 1, 2 and 3 claimers — each its own ledger and connection, as hosts
/// have — beside the same claim on SQLite on one host (and SQLite's `claimDelivery`, with its gates, as
/// the daemon claims today); and how long a lapsed lease takes to be taken over. PostgreSQL is the
/// private server scripts/bench.sh starts (BENCH_PG_URL, BENCH_PG_PASSWORD_FILE); without it, SQLite only.
func sharedLedgerClaimRows(root: URL, deliveries: Int) throws -> [[String]] {
    var rows: [[String]] = []
    func rate(_ n: Int, _ seconds: Double) -> String { String(format: "%.0f claims/s", Double(n) / max(seconds, 1e-9)) }

    let lite = try Ledger(path: root.appendingPathComponent("claims-lease.sqlite").path)
    try lite.plantReadyDeliveries(count: deliveries)
    let liteLease = try timed { try drain(claimers: 1) { _ in try lite.claimUploadLease(owner: "bench:1:t", lease: 600) != nil } }
    let gated = try Ledger(path: root.appendingPathComponent("claims-gated.sqlite").path)
    try gated.plantReadyDeliveries(count: deliveries)
    let liteGated = try timed { try drain(claimers: 1) { _ in try gated.claimDelivery(owner: "bench:1:t", lease: 600) != nil } }
    rows.append([
        "claims, SQLite, 1 host (\(deliveries) queued)", rate(deliveries, liteLease), rate(deliveries, liteGated),
        "lease alone; baseline: claimDelivery with caps, breakers, quotas"
    ])

    guard let url = ProcessInfo.processInfo.environment["BENCH_PG_URL"] else {
        rows.append(["claims, PostgreSQL", "n/a", "", "no PostgreSQL server (scripts/bench.sh starts one where PostgreSQL is installed)"])
        return rows
    }
    // scripts/bench.sh made a database per measurement: <database>_1, _2, _3 and _takeover.
    var config = try PostgresLedgerConfig.parse(url: url)
    let base = config.database
    config.passwordFile = ProcessInfo.processInfo.environment["BENCH_PG_PASSWORD_FILE"].map { URL(fileURLWithPath: $0) }
    config.poolSize = 1
    for claimers in 1...3 {
        config.database = "\(base)_\(claimers)"
        let hosts = try (0..<claimers).map { _ in try PostgresLedger(config) }
        defer { hosts.forEach { $0.close() } }
        try hosts[0].plantReadyDeliveries(count: deliveries)
        let seconds = try timed { try drain(claimers: claimers) { i in try hosts[i].claimUpload(owner: "bench\(i):\(i):t", lease: 600) != nil } }
        rows.append([
            "claims, PostgreSQL, \(claimers) claimer\(claimers > 1 ? "s" : "") (\(deliveries) queued)", rate(deliveries, seconds), rate(deliveries, liteLease),
            String(format: "%.2f× SQLite's lease on one host", liteLease / seconds)
        ])
    }

    // Takeover: one host leases an upload for `lease` seconds and dies; another claims every 50 ms.
    let lease = 2.0
    config.database = "\(base)_takeover"
    let a = try PostgresLedger(config), b = try PostgresLedger(config)
    defer {
        a.close()
        b.close()
    }
    try a.plantReadyDeliveries(count: 1)
    guard try a.claimUpload(owner: "dead:1:t", lease: lease) != nil else { throw OmniError(.internalError, "nothing to lease") }
    let died = ContinuousClock.now
    while try b.claimUpload(owner: "alive:2:t", lease: 600) == nil { Thread.sleep(forTimeInterval: 0.05) }
    let takeover = (ContinuousClock.now - died).seconds
    rows.append([
        "lapsed lease taken over (PostgreSQL)", String(format: "%.2f s", takeover), String(format: "%.0f s lease", lease),
        String(format: "+%.0f ms over the lease (claims every 50 ms)", (takeover - lease) * 1000)
    ])
    return rows
}

private func timed(_ body: () throws -> Void) throws -> Double {
    let start = ContinuousClock.now
    try body()
    return (ContinuousClock.now - start).seconds
}

/// Runs `claimers` threads, each claiming until `claim` finds nothing; rethrows the first error.
private func drain(claimers: Int, _ claim: @escaping @Sendable (Int) throws -> Bool) throws {
    let failure = FirstError()
    let done = DispatchGroup()
    for i in 0..<claimers {
        done.enter()
        Thread {
            do { while try claim(i) {} } catch { failure.set(error) }
            done.leave()
        }.start()
    }
    done.wait()
    if let e = failure.error { throw e }
}

private final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var first: (any Error)?
    var error: (any Error)? { lock.withLock { first } }
    func set(_ e: any Error) { lock.withLock { if first == nil { first = e } } }
}
