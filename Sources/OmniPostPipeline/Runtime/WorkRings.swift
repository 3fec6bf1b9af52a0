import OmniPostCore
import OmniPostLedger

/// Which stage loop a committed transition gives work to (issue 30): the ledger's observer rings only
/// that loop's topic, so a drop moving on wakes the one stage that takes it up rather than all seven
/// (each of which would look at the ledger for nothing). Every transition goes through the observer, the
/// stages' own, the dashboard's, the API's and the daemon's own control actions alike, so none is missed.
/// A transition no stage takes up (a note, a drop filed) rings nothing; a person's action that lets
/// work go (an approval, a retry, a lease let go) rings every loop, as it is rare.
enum WorkRings {
    static func topic(of e: EventRecord) -> Wakeup.Topic? {
        switch EventKind(rawValue: e.toState) {
        case .approved?, .retried?, .leaseReleased?, .ledgerBack?, .reloaded?: return .all
        // A file recorded (by the watcher, or brought back into the inbox by a retry).
        case .complete?: return .files
        default: break
        }
        if e.deliveryId != nil {
            switch DeliveryState(rawValue: e.toState) {
            case .planned?: return .validated
            case .ready?: return .ready
            case .published?: return [.finished, .published]
            case .failed?, .cancelled?: return .finished
            // An upload that starts frees nothing; one that ends rings as it ends.
            case .uploading?, nil: return nil
            }
        }
        switch DropState(rawValue: e.toState) {
        case .received?: return .received
        case .validated?: return .validated
        // Converted: its deliveries are ready (or all failed, and the drop is for filing).
        case .converted?: return [.ready, .finished]
        // The rejections lane; the lane that files everything only when that one is busy (`Wakeup.ring`).
        // A clip list's entry only that lane files: rung for it whoever rejected it — the validate stage,
        // a person's cancel (`omnipost cancel`, the dashboard, a `.CANCEL` marker) — not left to its safety net.
        case .rejected?: return e.listEntry ? .finished : .rejected
        case .failed?: return .finished
        // Its files wait again, to pair anew.
        case .withdrawn?: return .files
        case .archived?, nil: return nil
        }
    }
}
