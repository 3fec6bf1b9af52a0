import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Lists an inbox recursively with lstat: names, sizes, mtimes and inodes — directory metadata only,
/// so a poll never reads file contents or wakes a NAS's disks for data.
package struct InboxScanner: Sendable {
    package let root: String
    package let filter: JunkFilter
    /// Files whose names were not UTF-8 and were renamed while listing.
    package let renames: RenameLog

    package init(root: String, filter: JunkFilter, renames: RenameLog = RenameLog()) {
        self.root = root
        self.filter = filter
        self.renames = renames
    }

    /// Names in a folder, read as bytes (Foundation's listing loses names that are not UTF-8).
    func names(relDir: String) -> [String] {
        let abs = relDir.isEmpty ? root : root + "/" + relDir
        return NonUTF8Names.list(dirAbs: abs, dirRel: relDir, renamed: renames)
    }

    package func scan() -> [String: FileFact] {
        var out: [String: FileFact] = [:]
        walk(relDir: "", into: &out)
        return out
    }

    /// Subfolders (relative), for adding inotify watches.
    package func directories() -> [String] {
        var dirs: [String] = [""]
        var i = 0
        while i < dirs.count {
            let rel = dirs[i]
            i += 1
            let abs = rel.isEmpty ? root : root + "/" + rel
            for name in (try? FileManager.default.contentsOfDirectory(atPath: abs)) ?? [] where !filter.isJunk(name) {
                let childRel = rel.isEmpty ? name : rel + "/" + name
                var st = Glibc.stat()
                if lstat(root + "/" + childRel, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { dirs.append(childRel) }
            }
        }
        return dirs
    }

    package func stat(relPath: String) -> FileFact? {
        var st = Glibc.stat()
        guard lstat(root + "/" + relPath, &st) == 0 else { return nil }
        let mode = st.st_mode & S_IFMT
        guard mode == S_IFREG || mode == S_IFLNK else { return nil }
        return FileFact(
            relPath: relPath, size: Int64(st.st_size),
            mtime: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9,
            inode: Int64(st.st_ino), isSymlink: mode == S_IFLNK, links: Int(st.st_nlink))
    }

    private func walk(relDir: String, into out: inout [String: FileFact]) {
        for name in names(relDir: relDir) where !filter.isJunk(name) {
            let rel = relDir.isEmpty ? name : relDir + "/" + name
            var st = Glibc.stat()
            guard lstat(root + "/" + rel, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                walk(relDir: rel, into: &out)
            } else if let fact = stat(relPath: rel) {
                out[rel] = fact
            }
        }
    }
}
