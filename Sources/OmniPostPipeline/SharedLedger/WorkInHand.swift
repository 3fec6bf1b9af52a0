import Foundation
import OmniPostCore
import OmniPostLedger
import Synchronization

/// The work this pipeline's stages are doing right now — drops being validated, converted or filed (by
/// id), uploads running (by delivery id): what its heartbeat renews (docs/several-hosts.md, "When a host
/// or the database dies"). A unit is in hand from its claim until the stage's step (or the upload's
/// task) ends — moved on, or not. One that ends without its outcome recorded (a step that failed, an
/// upload whose result could not be written while the database was away) is no longer renewed: its lease
/// lapses one host lease after the last beat and it is taken up again, by this host or another, and an
/// upload reconciles the session the ledger kept. Renewing every claim the process's name holds instead
/// kept such a unit from every host for as long as this one lived (the crash test across hosts found two
/// uploads held so after a database restart).
package final class InHand<ID: Hashable & Comparable & Sendable>: Sendable {
    private let held = Mutex<[ID: Int]>([:])

    package init() {}

    /// Marks `id` in hand (counted: letting go once per hold).
    package func hold(_ id: ID) { held.withLock { $0[id, default: 0] += 1 } }

    package func letGo(_ id: ID) {
        held.withLock { h in
            if let n = h[id], n > 1 { h[id] = n - 1 } else { h[id] = nil }
        }
    }

    /// What the heartbeat renews.
    package var ids: [ID] { held.withLock { $0.keys.sorted() } }
}

extension PipelineContext {
    /// A drop claim's lease: on the shared ledger the host's lease (three heartbeats), renewed by the
    /// heartbeat while the drop is in hand, so a dead host's validation, conversion or filing is taken
    /// over once its lease lapses rather than after the stage's own `fixed` one (5 min, 1 h for a
    /// conversion). On one machine's SQLite ledger, `fixed`, as before: no other host waits on it.
    func dropLease(_ fixed: Double) -> Double { ledger.isShared ? config.host.leaseSeconds : fixed }
}
