import Foundation
import OmniPostCore

extension Ledger {
    /// What a drop's report says beside its drop and deliveries: each delivery's read-back and follow-ups,
    /// and — with `approval` — the drop's last `approved` event. One read where the archive asked three
    /// times, a transaction each, for every drop it filed (issue 30).
    package func reportFacts(dropId: String, deliveryIds: [Int64], approval: Bool) throws
        -> (checks: [Int64: PostCheckRecord], followUps: [Int64: [FollowUpRecord]], approved: EventRecord?)
    {
        // A drop rejected at validation has neither: no transaction at all (it asked none before).
        guard !deliveryIds.isEmpty || approval else { return ([:], [:], nil) }
        return try readSQL { sql in
            let checks = try Self.postChecks(deliveryIds: deliveryIds, sql)
            let followUps = try Self.followUps(deliveryIds: deliveryIds, sql)
            let approved = try approval ? Self.lastEvent(forDrop: dropId, kind: .approved, sql) : nil
            return (checks, followUps, approved)
        }
    }
}
