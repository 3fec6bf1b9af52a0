import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

extension QueueControl {
    /// Acknowledges a failed drop (by id) or a failed delivery (by number): it leaves the failures list
    /// and shows behind its "acknowledged" filter; nothing is deleted, and failing again brings it back.
    /// An id the ledger does not hold is `unknown_id`; one that is not failed is `invalid_value`.
    package func acknowledge(_ id: String) throws -> [String] {
        if let n = Int64(id) {
            guard let d = try ledger.delivery(n) else { throw OmniError(.unknownId, "there is no delivery \(n)") }
            guard d.state == .failed else {
                throw OmniError(.invalidValue, "delivery \(n) (\(d.target)) is \(d.state.rawValue), not failed; there is nothing to acknowledge")
            }
            try ledger.acknowledge(dropId: d.dropId, delivery: n, target: d.target, by: who)
            return ["delivery \(n) (\(d.target)) acknowledged; it is listed under Failures → acknowledged"]
        }
        guard let drop = try ledger.drop(id) else { throw OmniError(.unknownId, "there is no drop or delivery '\(id)'") }
        let failedDeliveries = try ledger.deliveries(forDrop: id).filter { $0.state == .failed }
        guard drop.state == .failed || drop.state == .rejected || !failedDeliveries.isEmpty else {
            throw OmniError(.invalidValue, "drop \(id) is \(drop.state.rawValue) and has no failed delivery; there is nothing to acknowledge")
        }
        try ledger.acknowledge(dropId: id, by: who)
        return ["drop \(id) acknowledged; it is listed under Failures → acknowledged"]
    }

    /// An operator's action by its name (`retry`, `cancel`, `acknowledge`), as the dashboard's forms and
    /// the API post it: what it did, line by line.
    package func perform(_ action: String, _ id: String, adapters: [String: any PlatformAdapter]) async throws -> [String] {
        switch action {
        case "retry": try retry(id)
        case "cancel": try await cancel(id, adapters: adapters)
        case "approve": try approve(id)
        case "reject": try reject(id)
        default: try acknowledge(id)
        }
    }
}
