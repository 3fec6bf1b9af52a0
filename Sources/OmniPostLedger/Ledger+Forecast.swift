import Foundation
import GRDB
import OmniPostCore

extension Ledger {
    /// The queue's forecast as the ledger stands: every quota spend still inside its rule's window, the
    /// limits platforms reported, the breakers open — and the open deliveries as forecast items
    /// (a delivery with a session spends nothing: it was paid for when it began; nor does one whose round
    /// the ledger already charged — an upload in flight, taken over or re-claimed before its session was
    /// recorded).
    package func queueForecast(rules: [String: [QuotaRule]]) throws -> (forecast: QueueForecast, queue: [DeliveryRecord]) {
        let now = clock.now()
        let limits = try observedQuotaLimits()
        return try readSQL { sql in
            var spent: [String: [(at: Date, units: Int)]] = [:]
            let accounts = try sql.rows("SELECT DISTINCT account FROM quota_spends ORDER BY account").compactMap { $0.text("account") }
            for account in accounts {
                let platform = String(account.split(separator: ":").first ?? "")
                for rule in rules[platform] ?? [] where rule.on == nil {
                    let s = try Self.spends(sql, account: account, rule: rule, now: now)
                    if !s.isEmpty { spent["\(account)|\(rule.name)"] = s }
                }
            }
            var open: [String: Date] = [:]
            for b in try sql.fetchAll(BreakerRecord.self, "SELECT * FROM breakers") where b.state == .open {
                if let until = b.openUntil, until > now.timeIntervalSince1970 { open[b.account] = Date(timeIntervalSince1970: until) }
            }
            let queue = try sql.fetchAll(DeliveryRecord.self, "SELECT * FROM deliveries WHERE state IN ('planned','ready','uploading') ORDER BY id")
            var paid: [Int64: Set<String>] = [:]
            for row in try sql.rows(
                """
                SELECT q.delivery_id, q.rule FROM quota_spends q JOIN deliveries d ON d.id = q.delivery_id
                WHERE q.charge_round = d.quota_round AND d.state IN ('planned','ready','uploading')
                """)
            {
                if let id = row.int("delivery_id"), let rule = row.text("rule") { paid[id, default: []].insert(rule) }
            }
            return (QueueForecast(rules: rules, observedLimits: limits, spent: spent, breakerOpenUntil: open, paid: paid), queue)
        }
    }

    /// Units an account spent on a rule since `since` (the rate a quota is being used at).
    package func spentUnits(account: String, rule: String, since: Double) throws -> Int {
        try readSQL { sql in
            Int(
                try sql.int(
                    "SELECT COALESCE(SUM(units), 0) AS n FROM quota_spends WHERE account = ? AND rule = ? AND at >= ?",
                    [.text(account), .text(rule), .real(since)]) ?? 0)
        }
    }

    /// A consistent copy of the ledger at `path` written to `copy`, read without taking a write lock or
    /// migrating the original (a daemon may be running on it): what `omnipost plan` works on, so
    /// nothing it tries reaches the real ledger.
    package static func snapshot(of path: String, to copy: String) throws {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        let source = try DatabaseQueue(path: path, configuration: config)
        let target = try DatabaseQueue(path: copy)
        try source.backup(to: target)
        try source.close()
        try target.close()
    }
}

extension DeliveryRecord {
    /// This delivery as the queue forecast sees it.
    package var forecastItem: QueueForecast.Item {
        QueueForecast.Item(
            id: id ?? 0, platform: platform, accountKey: accountKey, priority: priority,
            notBefore: notBefore.map { Date(timeIntervalSince1970: $0) }, spends: remoteSession == nil)
    }
}
