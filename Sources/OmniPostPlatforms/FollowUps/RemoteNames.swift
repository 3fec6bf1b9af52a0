import Foundation
import OmniPostCore

/// What an account's names resolved to on its platform (a YouTube playlist named in a sidecar → its id):
/// resolved once, then reused — in a pipeline across restarts (the ledger's `remote_names`), so a restart
/// neither lists the channel's playlists again nor makes a second one of the same name.
package protocol RemoteNames: Sendable {
    func id(account: String, kind: String, name: String) throws -> String?
    func remember(account: String, kind: String, name: String, id: String) throws
    /// The platform no longer has it (deleted there): the next use resolves the name again.
    func forget(account: String, kind: String, name: String) throws
}

/// Names kept in this process only: what an adapter without a ledger (a test's, a one-off check) uses.
package final class MemoryRemoteNames: RemoteNames, @unchecked Sendable {
    package static let shared = MemoryRemoteNames()
    private let lock = NSLock()
    private var ids: [String: String] = [:]
    package init() {}
    static func key(_ account: String, _ kind: String, _ name: String) -> String { [account, kind, name].joined(separator: "\u{0}") }
    package func id(account: String, kind: String, name: String) -> String? { lock.withLock { ids[Self.key(account, kind, name)] } }
    package func remember(account: String, kind: String, name: String, id: String) { lock.withLock { ids[Self.key(account, kind, name)] = id } }
    package func forget(account: String, kind: String, name: String) { _ = lock.withLock { ids.removeValue(forKey: Self.key(account, kind, name)) } }
}
