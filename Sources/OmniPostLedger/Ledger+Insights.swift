import Foundation
import GRDB
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

    package func insightRefusal(account: String) throws -> InsightRefusal? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM insight_refusals WHERE account = ?", arguments: [account]).map {
                InsightRefusal(account: $0["account"], api: $0["api"], detail: $0["detail"], at: $0["at"])
            }
        }
    }

    package func insightRefusals() throws -> [InsightRefusal] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM insight_refusals ORDER BY account").map {
                InsightRefusal(account: $0["account"], api: $0["api"], detail: $0["detail"], at: $0["at"])
            }
        }
    }

    /// Records that `account`'s grant was refused by `api`, with the event that says so (beside the delivery
    /// whose numbers were being read). True when it is new; a refusal already recorded is left as it is.
    @discardableResult
    package func recordInsightRefusal(account: String, api: String, detail: String, deliveryId: Int64?) throws -> Bool {
        let now = self.now
        return try write { db, events in
            try db.execute(
                sql: "INSERT OR IGNORE INTO insight_refusals(account, api, reason_code, detail, at) VALUES (?,?,?,?,?)",
                arguments: [account, api, ReasonCode.insightsNotGranted.rawValue, detail, now])
            guard db.changesCount > 0 else { return false }
            var dropId: String? = nil
            var target: String? = nil
            if let deliveryId, let row = try Row.fetchOne(db, sql: "SELECT drop_id, target FROM deliveries WHERE id = ?", arguments: [deliveryId]) {
                dropId = row["drop_id"]
                target = row["target"]
            }
            var e = EventRecord(
                at: now, dropId: dropId, deliveryId: deliveryId, target: target, stage: EventStage.verify.rawValue,
                toState: EventKind.insightsRefused.rawValue, detail: "\(account): \(detail)", data: .readBack(reason: ReasonCode.insightsNotGranted.rawValue))
            try e.insert(db)
            events.append(e)
            return true
        }
    }

    /// Forgets an account's refusal: it was connected again, so its grant may now have the permission.
    package func forgetInsightRefusal(account: String) throws {
        try write { db, _ in try db.execute(sql: "DELETE FROM insight_refusals WHERE account = ?", arguments: [account]) }
    }
}
