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
    /// what lets it go (and closes that connection) — for a hold that begins and ends in different
    /// places (the validate stage's decisions). Waiting is `pg_try_advisory_lock` every 50 ms rather than
    /// `pg_advisory_lock`, which would block the calling thread for as long as another host holds it.
    package func acquireLock(space: Int32, key: String) async throws -> @Sendable () -> Void {
        let connection = try connections.openSeparate()
        let tx = PostgresTransaction(connection: connection)
        do {
            while try tx.row("SELECT pg_try_advisory_lock(\(space), hashtext(?)) AS got", [.text(key)])?.int("got") != 1 {
                try await Task.sleep(for: .milliseconds(50))
            }
        } catch {
            connections.closeSeparate(connection)
            throw error
        }
        let connections = connections
        return {
            _ = try? tx.run("SELECT pg_advisory_unlock(\(space), hashtext(?))", [.text(key)])
            connections.closeSeparate(connection)
        }
    }
}
