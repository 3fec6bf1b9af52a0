import Foundation
import OmniPostCore
import OmniPostLedger
import Synchronization

/// The drops this pipeline's stages are working on right now (validating, converting, filing): what its
/// heartbeat renews on the shared ledger (docs/several-hosts.md, "When a host or the database dies").
/// A drop is in hand from its claim until the stage's step ends — moved on, or failed. A step that fails
/// lets its drop go without moving it: no longer renewed, its lease lapses one host lease after the last
/// beat and the drop is tried again, by this host or another, as a failed step's drop always was.
/// Renewing every drop the process's name holds instead would keep such a drop from every host for as
/// long as this one lives.
package final class DropsInHand: Sendable {
    private let held = Mutex<[String: Int]>([:])

    package init() {}

    /// Marks `id` in hand (a drop may be held twice: two lanes never claim one drop, but a count is cheap).
    package func hold(_ id: String) { held.withLock { $0[id, default: 0] += 1 } }

    package func letGo(_ id: String) {
        held.withLock { h in
            if let n = h[id], n > 1 { h[id] = n - 1 } else { h[id] = nil }
        }
    }

    /// What the heartbeat renews.
    package var ids: [String] { held.withLock { $0.keys.sorted() } }
}

extension PipelineContext {
    /// A drop claim's lease: on the shared ledger the host's lease (three heartbeats), renewed by the
    /// heartbeat while the drop is in hand, so a dead host's validation, conversion or filing is taken
    /// over once its lease lapses rather than after the stage's own `fixed` one (5 min, 1 h for a
    /// conversion). On one machine's SQLite ledger, `fixed`, as before: no other host waits on it.
    func dropLease(_ fixed: Double) -> Double { ledger.isShared ? config.host.leaseSeconds : fixed }

}
