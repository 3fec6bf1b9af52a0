import Foundation
import GRDB
import OmniPostCore

/// A drop waiting for a person (issue 29): its deliveries are held in the queue behind the `approval`
/// gate, never due, until approved (released to their schedule) or rejected (failed with the reason).
extension Ledger {
    /// 3000-01-01: a delivery held for approval is never due on its own.
    package static let approvalHold: Double = 32_503_680_000
    /// The gate a delivery waiting for a person is held behind.
    package static let approvalGate = "approval"

    /// A drop's deliveries held for approval, in one query for readers and for `approve`'s transaction.
    static func held(_ db: Database, dropId: String) throws -> [DeliveryRecord] {
        try DeliveryRecord.filter(Column("drop_id") == dropId && Column("gate") == approvalGate && ["planned", "ready"].contains(Column("state")))
            .order(Column("id")).fetchAll(db)
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
        try read { db in try Self.held(db, dropId: dropId) }
    }

    /// Every drop with a delivery held for approval: since when it waits, and whether it was reminded.
    package func dropsAwaitingApproval() throws -> [(dropId: String, since: Double, reminded: Bool)] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT d.drop_id, MIN(d.created_at) AS since,
                      EXISTS (SELECT 1 FROM events e WHERE e.drop_id = d.drop_id AND e.to_state = 'approval_reminder') AS reminded
                    FROM deliveries d WHERE d.gate = 'approval' AND d.state IN ('planned','ready')
                    GROUP BY d.drop_id ORDER BY since
                    """
            ).map { (dropId: $0["drop_id"], since: $0["since"], reminded: $0["reminded"] as Bool) }
        }
    }

    /// Releases a drop's held deliveries, each as `release` says, in one transaction with the event that
    /// says who approved and what they changed. Refused when nothing of the drop waits (approved already,
    /// rejected, or never held).
    @discardableResult
    package func approve(dropId: String, by who: String, detail: String, release: [Int64: ApprovalRelease]) throws -> [DeliveryRecord] {
        try write { db, events in
            let held = try Self.held(db, dropId: dropId)
            guard !held.isEmpty else { throw OmniError(.invalidValue, "drop \(dropId) is not waiting for approval") }
            var out: [DeliveryRecord] = []
            for var d in held {
                let r = release[d.id!] ?? ApprovalRelease(notBefore: nil, metadataJson: nil)
                d.notBefore = r.notBefore
                d.gate = r.notBefore == nil ? nil : "schedule"
                d.errorMessage = nil
                if let m = r.metadataJson { d.metadataJson = m }
                d.updatedAt = self.now
                try d.update(db)
                out.append(d)
            }
            var e = EventRecord(at: self.now, dropId: dropId, stage: EventStage.control.rawValue, toState: EventKind.approved.rawValue, detail: detail)
            try e.insert(db)
            events.append(e)
            return out
        }
    }
}

extension DeliveryRecord {
    /// Held for a person's approval, not yet answered.
    package var awaitsApproval: Bool { gate == Ledger.approvalGate && !state.isTerminal }
}
