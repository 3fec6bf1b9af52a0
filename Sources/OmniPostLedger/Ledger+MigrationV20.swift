import Foundation

extension Ledger {
    /// Migration v20, the same on both backends (types mapped): a post's quota is charged once per
    /// delivery's round (docs/ledger.md, "The queue's gates"; issue 27).
    /// - `deliveries.quota_round`: which start of the delivery a charge belongs to. 0 from its first
    ///   claim; an operator's `retry` of a failed delivery — a deliberate start-over the platform counts
    ///   as a new upload — moves it on. A takeover, a crash resume or a re-claim after a retry-later stays
    ///   in the round, so it is never charged again.
    /// - `quota_spends.charge_round`: the round a post's charge paid; NULL for what is not a post's charge
    ///   (a request-rate rule's spend, a read of a post). Unique per delivery and rule where set
    ///   (`quota_spends_once`): the database itself refuses a second charge of one round.
    /// An existing ledger's first charge of each delivery and rule is taken as its round 0 (a request-rate
    /// rule's row may be so marked too: its rule's name is never a post rule's, so nothing reads it as one),
    /// and an upload in flight across the upgrade is not charged again.
    static func v20Statements(postgres: Bool) -> [String] {
        let integer = postgres ? "BIGINT" : "INTEGER"
        return [
            "ALTER TABLE deliveries ADD COLUMN quota_round \(integer) NOT NULL DEFAULT 0",
            "ALTER TABLE quota_spends ADD COLUMN charge_round \(integer)",
            """
            UPDATE quota_spends SET charge_round = 0 WHERE id IN (
              SELECT MIN(id) FROM quota_spends WHERE delivery_id IS NOT NULL GROUP BY delivery_id, rule)
            """,
            "CREATE UNIQUE INDEX quota_spends_once ON quota_spends(delivery_id, rule, charge_round) WHERE charge_round IS NOT NULL"
        ]
    }
}
