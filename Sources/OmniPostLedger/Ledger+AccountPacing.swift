import Foundation
import OmniPostCore
import Synchronization

extension Ledger {
    /// One browser post of `account` across the hosts sharing the ledger (issue 27: the per-account
    /// spacing, `min_gap` + `jitter`, that a browser platform is paced by): waits until no other host is
    /// posting it or inside the gap after its last post, and gives back what ends this post. On
    /// PostgreSQL a session-level advisory lock on the account, in the account locks' space under its own
    /// key, held for the post and then, on its connection, for the gap — so the next host's post starts
    /// no sooner than the gap after this one ended, with nothing to store. A host that dies holding it
    /// loses that connection and the server lets it go (a crash does not keep its gap). On SQLite one
    /// process holds the ledger and its browser gate paces each account already: nothing here.
    package func beginPacedPost(account: String) async throws -> @Sendable (_ gap: Duration) -> Void {
        switch backend {
        case .sqlite: return { _ in }
        case .postgres(let pg):
            let unlock = Mutex<(@Sendable () -> Void)?>(try await pg.acquireLock(space: SQLDialect.accountLockSpace, key: "pace:" + account))
            return { gap in
                let once = unlock.withLock { u in
                    defer { u = nil }
                    return u
                }
                guard let release = once else { return }
                Task.detached {
                    try? await Task.sleep(for: gap)
                    release()
                }
            }
        }
    }
}
