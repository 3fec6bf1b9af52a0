import Foundation
import OmniPostCore

/// Sidecars parsed once per version of the file (issue 30). A lone sidecar was parsed three times: by the
/// arrival check (does it parse yet?), by the assemble stage (which clip does it name?) and by validation
/// — and YAML parsing is much of what a rejected sidecar costs. Keyed like `ClipListCache` by the file's
/// identity (device, inode, size, mtime): a sidecar saved again is a new version, read anew. Validation,
/// the last to read a version, takes its entry out; what is never validated (a sidecar deleted while it
/// waited) goes when the cache is full.
final class SidecarCache: @unchecked Sendable {
    private let lock = NSLock()
    private var parsed: [String: Result<Manifest, any Error>] = [:]
    /// Enough for a flood of lone sidecars waiting out their grace at once; each entry is a small parsed
    /// sidecar (those past `largest` are not kept).
    static let capacity = 4096
    static let largest: Int64 = 64 << 10

    /// The parse of the version at `path` if one is kept: one `stat`, no read — so no stall guard (a
    /// thread of its own for the read) is needed around it. Nil when it must be read.
    func cached(path: String, displayName: String, taking: Bool = false) -> Result<Manifest, any Error>? {
        guard let now = FileIdentity.of(path: path) else { return nil }
        let key = "\(path)|\(now)|\(displayName)"
        return lock.withLock { taking ? parsed.removeValue(forKey: key) : parsed[key] }
    }

    /// The sidecar at `path` as `Manifest.load` reads it (its errors named by `displayName`), parsed at
    /// most once per version. `taking`: the last read of this version — its entry goes.
    func manifest(path: String, displayName: String, taking: Bool = false) throws -> Manifest {
        guard let before = FileIdentity.of(path: path), before.size <= Self.largest else {
            return try Manifest.load(path: path, displayName: displayName)
        }
        let key = "\(path)|\(before)|\(displayName)"
        if let hit = lock.withLock({ taking ? parsed.removeValue(forKey: key) : parsed[key] }) { return try hit.get() }
        let result = Result { try Manifest.load(path: path, displayName: displayName) }
        // A sidecar that changed while it was read is not remembered: the next read sees the new version.
        if !taking, FileIdentity.of(path: path) == before {
            lock.withLock {
                if parsed.count >= Self.capacity { parsed.removeAll() }
                parsed[key] = result
            }
        }
        return try result.get()
    }
}
