import Foundation
import OmniPostCore

extension Ledger {
    /// Runs `body` — an account's token refresh — while no other host sharing the ledger refreshes the
    /// same account (issue 27: one refresh at a time per account across hosts). On PostgreSQL a
    /// session-level advisory lock on the account, in the account locks' space (`SQLDialect.lockAccount`'s);
    /// on SQLite one process holds the ledger and its token provider already refreshes one at a time.
    /// The caller reads the token again once inside: another host may have refreshed it meanwhile.
    package func exclusively<T: Sendable>(account: String, _ body: () async throws -> T) async throws -> T {
        switch backend {
        case .sqlite: return try await body()
        case .postgres(let pg): return try await pg.holdingLock(space: SQLDialect.accountLockSpace, key: "token:" + account, body)
        }
    }
}
