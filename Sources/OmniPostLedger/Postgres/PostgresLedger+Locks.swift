import Foundation
import OmniPostCore

extension PostgresLedger {
    /// Runs `body` while this process holds the session-level advisory lock (`space`, `key`) — across
    /// awaits, on a connection of its own for the time — so no other host holding the same lock runs at once
    /// (PostgreSQL's documentation, "Advisory Locks"). A host that dies holding it loses its connection,
    /// and the server lets the lock go.
    package func holdingLock<T: Sendable>(space: Int32, key: String, _ body: () async throws -> T) async throws -> T {
        let unlock = try await acquireLock(space: space, key: key)
        do {
            let v = try await body()
            unlock()
            return v
        } catch {
            unlock()
            throw error
        }
    }

    /// Takes the session-level advisory lock (`space`, `key`) on a connection of its own and gives back
    /// what lets it go (the connection is kept for the next hold once the server has answered the unlock,
    /// and closed — which lets go of any lock on it — when it has not) — for a hold that begins and ends in different
    /// places (the validate stage's decisions). Waiting is `pg_try_advisory_lock` every 50 ms rather than
    /// `pg_advisory_lock`, which would block the calling thread for as long as another host holds it.
    package func acquireLock(space: Int32, key: String) async throws -> @Sendable () -> Void {
        var (connection, kept) = try connections.openSeparate()
        while true {
            do {
                let tx = PostgresTransaction(connection: connection)
                while try tx.row("SELECT pg_try_advisory_lock(\(space), hashtext(?)) AS got", [.text(key)])?.int("got") != 1 {
                    try await Task.sleep(for: .milliseconds(50))
                }
                break
            } catch {
                connections.closeSeparate(connection)
                // A kept connection the server dropped meanwhile (a restart): once more on a new one.
                guard kept, !(error is CancellationError) else { throw error }
                (connection, kept) = try connections.openSeparate(fresh: true)
            }
        }
        let held = connection
        let tx = PostgresTransaction(connection: held)
        let connections = connections
        return {
            if (try? tx.row("SELECT pg_advisory_unlock(\(space), hashtext(?)) AS let_go", [.text(key)])?.int("let_go")) == 1 {
                connections.giveBackSeparate(held)
            } else {
                connections.closeSeparate(held)
            }
        }
    }
}
