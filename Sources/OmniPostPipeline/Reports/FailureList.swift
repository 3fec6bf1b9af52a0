import Foundation
import OmniPostCore
import OmniPostLedger

/// The failures an operator still has to look at, as the dashboard's Failures page and
/// `/api/v1/failures` show them. A failed drop is one item, its failed deliveries its reasons (each
/// delivery's own code and sentence); a failed delivery of a drop still in flight is an item of its own.
/// An item leaves the list when later work published what it failed to (a later drop of the same name or
/// clip — a retry comes back as one — or a later delivery of the same content to the same target), and
/// moves behind the "acknowledged" filter when an operator acknowledged it after it last failed.
package struct FailureList: Sendable {
    package struct Reason: Sendable, Codable, Equatable {
        package var delivery: Int64?
        package var target: String?
        package var code: String
        package var message: String
        package var location: String?
    }

    package struct Item: Sendable, Codable, Equatable {
        /// `drop` or `delivery`.
        package var kind: String
        /// The drop id, or the delivery number as text (what `retry`, `cancel` and `acknowledge` take).
        package var id: String
        package var drop: String
        package var stem: String
        package var target: String?
        package var failedAt: Double
        package var reasons: [Reason]
        package var acknowledgedAt: Double?
        package var acknowledgedBy: String?
    }

    package var open: [Item]
    package var acknowledged: [Item]
    /// Failures that left the list because later work published: failed id → what published.
    package var superseded: [String: String]

    /// At most `limit` of the newest failed drops and deliveries are looked at.
    package static func gather(ledger: Ledger, limit: Int = 200) throws -> FailureList {
        let drops = Array(try ledger.drops(in: [.failed, .rejected]).sorted { $0.updatedAt > $1.updatedAt }.prefix(limit))
        let failedDeliveries = try ledger.deliveries(in: [.failed], limit: limit)
        let dropsById = Dictionary(drops.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let supersededDrops = try ledger.supersededDrops(drops.map(\.id))
        let supersededDeliveries = try ledger.supersededDeliveries(failedDeliveries.compactMap(\.id))
        let acks = try ledger.acknowledgements()
        var items: [Item] = []
        var superseded: [String: String] = supersededDrops
        let failedOfDrops = Dictionary(grouping: try ledger.failedDeliveries(ofDrops: drops.map(\.id)), by: \.dropId)
        for d in drops where supersededDrops[d.id] == nil {
            // A drop that failed at its deliveries: each failed delivery's own reason, not the drop's summary.
            let own = failedOfDrops[d.id] ?? []
            let reasons =
                own.isEmpty
                ? [Reason(code: d.reasonCode ?? ReasonCode.internalError.rawValue, message: d.reasonMessage ?? "no reason was recorded", location: d.reasonLocation)]
                : own.map {
                    Reason(delivery: $0.id, target: $0.target, code: $0.errorCode ?? ReasonCode.internalError.rawValue, message: $0.errorMessage ?? "no reason was recorded")
                }
            var item = Item(kind: "drop", id: d.id, drop: d.id, stem: d.stem, target: nil, failedAt: d.updatedAt, reasons: reasons)
            if let a = acks.drops[d.id], a.at >= d.updatedAt { item.acknowledgedAt = a.at; item.acknowledgedBy = a.detail }
            items.append(item)
        }
        for x in failedDeliveries {
            guard let n = x.id else { continue }
            if let later = supersededDeliveries[n] { superseded[String(n)] = String(later); continue }
            // A finished drop's failed deliveries are its reasons (above), not items of their own.
            if dropsById[x.dropId] != nil { continue }
            if let parent = try ledger.drop(x.dropId), parent.state.isTerminal { continue }
            let stem = try ledger.drop(x.dropId)?.stem ?? x.dropId
            var item = Item(
                kind: "delivery", id: String(n), drop: x.dropId, stem: stem, target: x.target, failedAt: x.updatedAt,
                reasons: [Reason(delivery: n, target: x.target, code: x.errorCode ?? ReasonCode.internalError.rawValue, message: x.errorMessage ?? "no reason was recorded")])
            if let a = acks.deliveries[n] ?? acks.drops[x.dropId], a.at >= x.updatedAt { item.acknowledgedAt = a.at; item.acknowledgedBy = a.detail }
            items.append(item)
        }
        items.sort { $0.failedAt > $1.failedAt }
        return FailureList(open: items.filter { $0.acknowledgedAt == nil }, acknowledged: items.filter { $0.acknowledgedAt != nil }, superseded: superseded)
    }
}
