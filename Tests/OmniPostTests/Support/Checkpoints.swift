import Foundation
import OmniPostCore
import OmniPostPlatforms
import Testing

/// A delivery's checkpoints, in order.
final class CheckpointLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [UploadCheckpoint] = []
    func add(_ c: UploadCheckpoint) { lock.withLock { items.append(c) } }
    var all: [UploadCheckpoint] { lock.withLock { items } }
    var last: UploadCheckpoint? { all.last }
}

/// The process "dies" here: thrown from a checkpoint.
struct SimulatedCrash: Error {}

/// Runs a delivery that dies at the first checkpoint `stop` picks (as a killed daemon leaves it: the
/// checkpoints are all that survive), and returns those checkpoints.
func interrupted<T>(
    _ deliver: (@escaping @Sendable (UploadCheckpoint) async throws -> Void) async throws -> T,
    at stop: @escaping @Sendable (UploadCheckpoint) -> Bool
) async throws -> CheckpointLog {
    let log = CheckpointLog()
    await #expect(throws: SimulatedCrash.self) {
        _ = try await deliver { cp in
            log.add(cp)
            if stop(cp) { throw SimulatedCrash() }
        }
    }
    return log
}

/// A token store in memory, as the daemon's keeps them on disk: what a test's adapters share.
final class MemoryTokenStore: TokenStore, @unchecked Sendable {
    private let lock = NSLock()
    private var v: [String: (String?, Date?, String?)] = [:]
    func load(account: String) async throws -> (accessToken: String?, expiresAt: Date?, refreshToken: String?) {
        lock.withLock {
            let x = v[account]; return (x?.0, x?.1, x?.2)
        }
    }
    func save(account: String, accessToken: String, expiresAt: Date, refreshToken: String?) async throws {
        lock.withLock { v[account] = (accessToken, expiresAt, refreshToken) }
    }
    /// The newest refresh token saved (the platform's rotation, as the store holds it).
    var refreshToken: String? { lock.withLock { v.values.first?.2 } }
}
