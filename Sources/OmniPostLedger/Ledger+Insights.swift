import Foundation
import OmniPostCore

/// An account whose grant lacks the permission its platform's insights API needs (issue 25): recorded
/// once, with an event, and those numbers are not asked for again until the account is connected anew
/// (`omnipost accounts add`, which forgets the refusal) — a missing permission is a fact, not an error loop.
extension Ledger {
    package struct InsightRefusal: Sendable, Equatable {
        package var account: String
        package var api: String
        package var detail: String
        package var at: Double
    }

    static func insightRefusal(_ r: SQLRow) -> InsightRefusal {
        InsightRefusal(account: r.text("account") ?? "", api: r.text("api") ?? "", detail: r.text("detail") ?? "", at: r.double("at") ?? 0)
    }

    package func insightRefusal(account: String) throws -> InsightRefusal? {
        try readSQL { sql in try sql.row("SELECT * FROM insight_refusals WHERE account = ?", [.text(account)]).map(Self.insightRefusal) }
    }

    package func insightRefusals() throws -> [InsightRefusal] {
        try readSQL { sql in try sql.rows("SELECT * FROM insight_refusals ORDER BY account").map(Self.insightRefusal) }
    }

    /// Records that `account`'s grant was refused by `api`, with the event that says so (beside the delivery
    /// whose numbers were being read). True when it is new; a refusal already recorded is left as it is.
    /// Across hosts the account's primary key decides: one insert changes a row, and only that one writes the event.
    @discardableResult
    package func recordInsightRefusal(account: String, api: String, detail: String, deliveryId: Int64?) throws -> Bool {
        let now = self.now
        return try writeSQL { sql, events in
            let inserted = try sql.run(
                "INSERT INTO insight_refusals(account, api, reason_code, detail, at) VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
                account, api, ReasonCode.insightsNotGranted.rawValue, detail, now)
            guard inserted > 0 else { return false }
            var dropId: String? = nil
            var target: String? = nil
            if let deliveryId, let row = try sql.row("SELECT drop_id, target FROM deliveries WHERE id = ?", [.integer(deliveryId)]) {
                dropId = row.text("drop_id")
                target = row.text("target")
            }
            try Self.record(
                EventRecord(
                    at: now, dropId: dropId, deliveryId: deliveryId, target: target, stage: EventStage.verify.rawValue,
                    toState: EventKind.insightsRefused.rawValue, detail: "\(account): \(detail)", data: .readBack(reason: ReasonCode.insightsNotGranted.rawValue)),
                sql, &events)
            return true
        }
    }

    /// Forgets an account's refusal: it was connected again, so its grant may now have the permission.
    package func forgetInsightRefusal(account: String) throws {
        try writeSQL { sql, _ in try sql.run("DELETE FROM insight_refusals WHERE account = ?", account) }
    }
}
