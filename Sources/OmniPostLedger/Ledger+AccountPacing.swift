import Foundation
import OmniPostCore
import Synchronization

extension Ledger {
    /// One browser post of `account` across the hosts sharing the ledger (issue 27: the per-account
    /// spacing, `min_gap` + `jitter`, that a browser platform is paced by): waits until no other host is
    /// posting it or inside the gap after its last post, and gives back what ends this post. On
    /// PostgreSQL a session-level advisory lock on the account, in the account locks' space under its own
    /// key, held for the post and then, on its connection, for the gap — so the next host's post starts
    /// no sooner than the gap after this one ended. A host that dies holding it loses that connection and
    /// the server lets it go — so, the lock taken, the account's last upload attempt to have ended (on any
    /// host: the ledger's `attempts`) is read too, and the post waits until `minGap` after it: a host that
    /// died inside its gap still keeps the gap's floor (its jitter is its own). On SQLite one process holds
    /// the ledger and its browser gate paces each account already: nothing here.
    package func beginPacedPost(account: String, minGap: Duration = .zero) async throws -> @Sendable (_ gap: Duration) -> Void {
        switch backend {
        case .sqlite: return { _ in }
        case .postgres(let pg):
            let release = try await pg.acquireLock(space: SQLDialect.accountLockSpace, key: "pace:" + account)
            do {
                let last = try readSQL { sql in
                    try sql.row("SELECT MAX(finished_at) AS at FROM attempts WHERE account = ?", [.text(account)])?.double("at")
                }
                if let last {
                    let wait = last + Double(minGap.components.seconds) + Double(minGap.components.attoseconds) / 1e18 - clock.now().timeIntervalSince1970
                    if wait > 0 { try await Task.sleep(for: .milliseconds(Int64(wait * 1000) + 1)) }
                }
            } catch {
                release()
                throw error
            }
            let unlock = Mutex<(@Sendable () -> Void)?>(release)
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
