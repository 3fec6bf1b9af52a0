import Foundation
import OmniPostCore

/// A drop waiting for a person (issue 29): its deliveries are held in the queue behind the `approval`
/// gate, never due, until approved (released to their schedule) or rejected (failed with the reason).
extension Ledger {
    /// 3000-01-01: a delivery held for approval is never due on its own.
    package static let approvalHold: Double = 32_503_680_000
    /// The gate a delivery waiting for a person is held behind.
    package static let approvalGate = "approval"

    /// A drop's deliveries held for approval, in one query for readers and for `approve`'s transaction.
    /// `locking`: `approve` reads them `FOR UPDATE` on the shared ledger, so two people approving on two
    /// hosts at once are one approval — the second waits, then finds nothing held and is refused.
    static func held(_ sql: any LedgerSQL, dropId: String, locking: Bool = false) throws -> [DeliveryRecord] {
        try sql.fetchAll(
            DeliveryRecord.self,
            "SELECT * FROM deliveries WHERE drop_id = ? AND gate = ? AND state IN ('planned', 'ready') ORDER BY id" + (locking ? sql.dialect.forUpdate : ""),
            [.text(dropId), .text(approvalGate)])
    }

    /// What releasing one held delivery sets: its schedule's hold (or none) and, when the approval edited
    /// it, its new metadata.
    package struct ApprovalRelease: Sendable {
        package var notBefore: Double?
        package var metadataJson: String?
        package init(notBefore: Double?, metadataJson: String?) {
            self.notBefore = notBefore
            self.metadataJson = metadataJson
        }
    }

    /// A drop's deliveries held for approval.
    package func awaitingApproval(dropId: String) throws -> [DeliveryRecord] {
        try readSQL { sql in try Self.held(sql, dropId: dropId) }
    }

    /// Every drop with a delivery held for approval: since when it waits, and whether it was reminded.
    package func dropsAwaitingApproval() throws -> [(dropId: String, since: Double, reminded: Bool)] {
        try readSQL { sql in
            try sql.rows(
                """
                SELECT d.drop_id, MIN(d.created_at) AS since,
                  CASE WHEN EXISTS (SELECT 1 FROM events e WHERE e.drop_id = d.drop_id AND e.to_state = 'approval_reminder') THEN 1 ELSE 0 END AS reminded
                FROM deliveries d WHERE d.gate = 'approval' AND d.state IN ('planned','ready')
                GROUP BY d.drop_id ORDER BY since
                """
            ).map { (dropId: $0.text("drop_id") ?? "", since: $0.double("since") ?? 0, reminded: ($0.int("reminded") ?? 0) != 0) }
        }
    }

    /// Releases a drop's held deliveries, each as `release` says, in one transaction with the event that
    /// says who approved and what they changed. Refused when nothing of the drop waits (approved already,
    /// rejected, or never held).
    @discardableResult
    package func approve(dropId: String, by who: String, detail: String, release: [Int64: ApprovalRelease]) throws -> [DeliveryRecord] {
        try writeSQL { sql, events in
            let held = try Self.held(sql, dropId: dropId, locking: true)
            guard !held.isEmpty else { throw OmniError(.invalidValue, "drop \(dropId) is not waiting for approval") }
            var out: [DeliveryRecord] = []
            for var d in held {
                let r = release[d.id!] ?? ApprovalRelease(notBefore: nil, metadataJson: nil)
                d.notBefore = r.notBefore
                d.gate = r.notBefore == nil ? nil : "schedule"
                d.errorMessage = nil
                if let m = r.metadataJson { d.metadataJson = m }
                d.updatedAt = self.now
                try sql.update(d, in: "deliveries")
                out.append(d)
            }
            try Self.record(
                EventRecord(at: self.now, dropId: dropId, stage: EventStage.control.rawValue, toState: EventKind.approved.rawValue, detail: detail),
                sql, &events)
            return out
        }
    }
}

extension DeliveryRecord {
    /// Held for a person's approval, not yet answered.
    package var awaitsApproval: Bool { gate == Ledger.approvalGate && !state.isTerminal }
}
