import Foundation
import OmniPostCore
import Synchronization

extension Ledger {
    /// A hold on the ledger's decisions: while it is held, no other host sharing the ledger reads what
    /// drops have claimed (a taken publishing slot, an earlier delivery of the same content) and writes
    /// its own claim. Let go with `release()`, once however the work ends.
    package final class DecisionHold: Sendable {
        private let unlock: Mutex<(@Sendable () -> Void)?>
        init(_ unlock: (@Sendable () -> Void)?) { self.unlock = Mutex(unlock) }
        package func release() {
            let once = unlock.withLock { u in
                defer { u = nil }
                return u
            }
            once?()
        }
    }

    /// Takes the decisions lock (issue 27: the schedule shared across hosts). On PostgreSQL a
    /// session-level advisory lock, held on a connection of its own from the read of the taken slots to
    /// the transaction that writes the drop's deliveries with its slot — so two hosts validating at once
    /// never both take one slot (or both see no earlier delivery of one content). A host that dies
    /// holding it loses that connection and the server lets the lock go. On SQLite one process holds the
    /// ledger, and the validate stage's own gate (one worker at a time) is the whole of it: nothing here.
    package func holdDecisions() async throws -> DecisionHold {
        switch backend {
        case .sqlite: return DecisionHold(nil)
        case .postgres(let pg): return DecisionHold(try await pg.acquireLock(space: SQLDialect.decisionLockSpace, key: "decisions"))
        }
    }
}

extension SQLDialect {
    /// The advisory-lock space of the decisions lock, apart from the accounts' ("OMND").
    static let decisionLockSpace: Int32 = 0x4F4D_4E44
}
