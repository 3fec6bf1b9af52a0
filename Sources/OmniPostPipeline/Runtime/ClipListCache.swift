import Foundation
import OmniPostCore

/// Clip lists parsed once per version of the file. The assemble stage reads a waiting list on every
/// pass and validation reads it again for each entry's drop: parsing a list of hundreds of entries each
/// time made every entry's answer (a `missing_clip`, mostly) cost a whole parse. Keyed by the file's
/// version (`FileVersion`: device, inode, size, mtime and ctime), so a list rewritten in place is read
/// anew even where mtimes are coarse.
final class ClipListCache: @unchecked Sendable {
    private struct Key: Hashable {
        var path: String, version: FileVersion, maxEntries: Int
    }
    private let lock = NSLock()
    private var lists: [Key: Result<ClipList, any Error>] = [:]

    func load(path: String, displayName: String, maxEntries: Int) throws -> ClipList {
        guard let before = FileVersion.of(path: path) else {
            return try ClipList.load(path: path, displayName: displayName, maxEntries: maxEntries)
        }
        let key = Key(path: path, version: before, maxEntries: maxEntries)
        if let hit = lock.withLock({ lists[key] }) { return try hit.get() }
        let result = Result { try ClipList.load(path: path, displayName: displayName, maxEntries: maxEntries) }
        // A list that changed while it was read is not remembered: the next read sees the new version.
        if FileVersion.of(path: path) == before {
            lock.withLock {
                if lists.count >= 64 { lists.removeAll() }
                lists[key] = result
            }
        }
        return try result.get()
    }
}
