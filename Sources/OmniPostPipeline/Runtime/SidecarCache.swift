import Foundation
import OmniPostCore

/// Sidecars parsed once per version of the file (issue 30). A lone sidecar was parsed three times: by the
/// arrival check (does it parse yet?), by the assemble stage (which clip does it name?) and by validation
/// — and YAML parsing is much of what a rejected sidecar costs. Keyed like `ClipListCache` by the file's
/// version (`FileVersion`: device, inode, size, mtime and ctime): a sidecar saved again is a new version,
/// read anew — also one rewritten in place to the same size within a coarse mtime's tick. Validation, the
/// last to read a version, takes its entry out; what is never validated (a sidecar deleted while it
/// waited) goes when the cache is full.
final class SidecarCache: @unchecked Sendable {
    /// A version of one sidecar as one reader names it (its errors carry `displayName`).
    struct Key: Hashable {
        var path: String, version: FileVersion, displayName: String
    }
    /// What `lookup` found: the parse kept for this version, or the key to keep one under (nil: not
    /// kept — the file is gone or too large).
    enum Lookup {
        case hit(Result<Manifest, any Error>)
        case miss(Key?)
    }

    private let lock = NSLock()
    private var parsed: [Key: Result<Manifest, any Error>] = [:]
    private var parsesDone = 0
    /// How many times a sidecar was parsed here (not answered from a kept parse): for tests.
    var parses: Int { lock.withLock { parsesDone } }
    /// Enough for a flood of lone sidecars waiting out their grace at once; each entry is a small parsed
    /// sidecar (those past `largest` are not kept).
    static let capacity = 4096
    static let largest: Int64 = 64 << 10

    /// The parse of the version at `path` if one is kept: one `stat`, no read — so no stall guard (a
    /// thread of its own for the read) is needed around it. A miss carries the key, so the read after it
    /// (`manifest(…, key:)`) neither stats nor builds it again.
    func lookup(path: String, displayName: String, taking: Bool = false) -> Lookup {
        guard let now = FileVersion.of(path: path), now.size <= Self.largest else { return .miss(nil) }
        let key = Key(path: path, version: now, displayName: displayName)
        if let hit = lock.withLock({ taking ? parsed.removeValue(forKey: key) : parsed[key] }) { return .hit(hit) }
        return .miss(key)
    }

    /// The sidecar at `path` as `Manifest.load` reads it (its errors named by `displayName`), parsed at
    /// most once per version. `taking`: the last read of this version — its entry goes.
    func manifest(path: String, displayName: String, taking: Bool = false) throws -> Manifest {
        switch lookup(path: path, displayName: displayName, taking: taking) {
        case .hit(let kept): return try kept.get()
        case .miss(let key): return try read(path: path, displayName: displayName, key: key, taking: taking)
        }
    }

    /// After a miss: the file read and parsed, kept under `key` (from `lookup`) unless it changed meanwhile.
    func read(path: String, displayName: String, key: Key?, taking: Bool = false) throws -> Manifest {
        let result = Result { try Manifest.load(path: path, displayName: displayName) }
        remember(result, key: key, path: path, taking: taking)
        return try result.get()
    }

    /// Bytes a caller read already (the arrival check: it reads them to see whether they are all here),
    /// parsed here rather than read again. `version` is the file's, taken before those bytes were read:
    /// the parse is kept only if the file is still that version after, so bytes of an older version are
    /// never kept under a newer one.
    func manifest(data: Data, path: String, displayName: String, version: FileVersion?) throws -> Manifest {
        let key = version.flatMap { $0.size <= Self.largest ? Key(path: path, version: $0, displayName: displayName) : nil }
        if let key, let hit = lock.withLock({ parsed[key] }) { return try hit.get() }
        let result = Result { try Manifest.load(data: data, displayName: displayName) }
        remember(result, key: key, path: path, taking: false)
        return try result.get()
    }

    private func remember(_ result: Result<Manifest, any Error>, key: Key?, path: String, taking: Bool) {
        lock.withLock { parsesDone += 1 }
        // A sidecar that changed while it was read is not remembered: the next read sees the new version.
        guard !taking, let key, FileVersion.of(path: path) == key.version else { return }
        lock.withLock {
            if parsed.count >= Self.capacity { parsed.removeAll() }
            parsed[key] = result
        }
    }
}
