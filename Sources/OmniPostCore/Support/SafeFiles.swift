import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// File operations that keep the "never lose a file" promise (ARCHITECTURE.md principle 2).
package enum SafeFiles {
    /// Writes to a temporary name beside the target, fsyncs, then renames over it. In system calls, not
    /// FileManager's: every report and status file of every drop is written here, and FileManager's
    /// folder check, create-then-reopen and a UUID read from /dev/urandom were most of what it cost.
    ///
    /// `durable: false` skips both fsyncs, for a file that is only a view of the ledger, rewritten on the
    /// next change (a drop's status file): whole or absent, never half, but not flushed at each rewrite —
    /// two flushes per rewrite were a good part of what a drop cost (issue 30).
    ///
    /// `syncFolder: false` (with `durable`): the file is flushed, its folder left for the caller to sync
    /// with others (a burst's filings sync outbox/failed/ once: `SharedFolderSyncs`).
    package static func writeAtomically(_ data: Data, to url: URL, durable: Bool = true, syncFolder: Bool = true) throws {
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).\(String(UInt64.random(in: 0...UInt64.max), radix: 36)).tmp").path
        // The folder is made only when it is missing.
        var f = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        if f < 0, errno == ENOENT {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            f = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        }
        guard f >= 0 else { throw OmniError(.archiveIO, "cannot create \(tmp): \(String(cString: strerror(errno)))") }
        do {
            try data.withUnsafeBytes { raw in
                var done = 0
                while done < raw.count {
                    let n = write(f, raw.baseAddress! + done, raw.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw OmniError(.archiveIO, "cannot write \(url.path): \(String(cString: strerror(errno)))")
                    }
                    done += n
                }
            }
            guard !durable || fsync(f) == 0 else { throw OmniError(.archiveIO, "cannot flush \(url.path): \(String(cString: strerror(errno)))") }
        } catch {
            close(f)
            unlink(tmp)
            throw error
        }
        close(f)
        guard rename(tmp, url.path) == 0 else {
            let err = String(cString: strerror(errno))
            unlink(tmp)
            throw OmniError(.archiveIO, "cannot rename into \(url.path): \(err)")
        }
        if durable && syncFolder { fsyncDirectory(dir) }
    }

    /// Removes a file or folder tree if there is one: a look first, since FileManager's removal of a
    /// path that is not there (a rejected drop's work folder, never made) costs more than a stat.
    package static func removeIfPresent(_ url: URL) {
        var st = stat()
        guard lstat(url.path, &st) == 0 else { return }
        try? FileManager.default.removeItem(at: url)
    }

    /// Moves an original. Same filesystem: one rename. Across filesystems, or for a file hard-linked
    /// elsewhere: copy, fsync, verify the hash, and only then unlink the source. Never overwrites an
    /// existing destination.
    package static func moveOriginal(from src: URL, to dst: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: dst.deletingLastPathComponent(), withIntermediateDirectories: true)
        if fm.fileExists(atPath: dst.path) {
            // A crash between a verified cross-filesystem copy and removing the source leaves both:
            // the same bytes mean the move is done but for the source.
            if try FileHashing.sha256(path: src.path).hex == FileHashing.sha256(path: dst.path).hex {
                try fm.removeItem(at: src)
                return
            }
            throw OmniError(.archiveIO, "refusing to overwrite \(dst.path), which holds different bytes")
        }
        // A file with more than one link is not the inbox's alone: whoever holds the other name can go on
        // writing it, and a renamed inode would change under the archive. The archive gets a verified copy
        // of its own; only the inbox's name is removed.
        var st = stat()
        if lstat(src.path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_nlink > 1 {
            try copyOriginal(from: src, to: dst)
            guard unlink(src.path) == 0 else {
                throw OmniError(.archiveIO, "copied \(src.path) to \(dst.path) but could not remove its name from the inbox: \(String(cString: strerror(errno)))")
            }
            fsyncDirectory(src.deletingLastPathComponent())
            return
        }
        if rename(src.path, dst.path) == 0 {
            fsyncDirectory(dst.deletingLastPathComponent())
            return
        }
        let renameErrno = errno
        guard renameErrno == EXDEV else {
            throw OmniError(.archiveIO, "cannot move \(src.path) to \(dst.path): \(String(cString: strerror(renameErrno)))")
        }
        // Across filesystems: a verified, durable copy first; the source goes only once the copy is safe.
        try copyOriginal(from: src, to: dst)
        do { try fm.removeItem(at: src) } catch {
            throw OmniError(.archiveIO, "copied \(src.path) to \(dst.path) but could not remove the original: \(error.localizedDescription)", underlying: error)
        }
    }

    /// Copies an original that other drops still need (a shared clip list): temp name, fsync, hash check, rename.
    package static func copyOriginal(from src: URL, to dst: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: dst.deletingLastPathComponent(), withIntermediateDirectories: true)
        if fm.fileExists(atPath: dst.path) { return }
        let tmp = dst.deletingLastPathComponent().appendingPathComponent(".\(dst.lastPathComponent).copying")
        try? fm.removeItem(at: tmp)
        do {
            try fm.copyItem(at: src, to: tmp)
            let h = try FileHandle(forWritingTo: tmp)
            try h.synchronize()
            try h.close()
            guard try FileHashing.sha256(path: src.path).hex == FileHashing.sha256(path: tmp.path).hex else {
                throw OmniError(.archiveIO, "copy of \(src.path) does not match its source")
            }
            guard rename(tmp.path, dst.path) == 0 else { throw OmniError(.archiveIO, "cannot rename into \(dst.path)") }
            fsyncDirectory(dst.deletingLastPathComponent())
        } catch {
            try? fm.removeItem(at: tmp)
            throw OmniError.wrap(error, as: .archiveIO)
        }
    }

    /// A second name for a file already written durably (`writeAtomically`): one hard link and its folder's
    /// fsync instead of a second file written, flushed and renamed — a rejected drop's report in its
    /// `failed/<drop>/` folder beside the one in `outbox/failed/` (issue 30: a new inode is most of what a
    /// small file costs on this ext4). Where no link can be made (another filesystem, a name already
    /// there from a filing begun before) the same bytes are written as their own file.
    /// `syncFolder: false`: the caller syncs the folder itself, with others it changed (a filing).
    package static func linkOrWrite(_ existing: URL, _ data: Data, to url: URL, syncFolder: Bool = true) throws {
        if link(existing.path, url.path) == 0 {
            if syncFolder { fsyncDirectory(url.deletingLastPathComponent()) }
            return
        }
        try writeAtomically(data, to: url, syncFolder: syncFolder)
    }

    /// Makes a rename durable: the directory entry itself must reach the disk.
    package static func fsyncDirectory(_ dir: URL) {
        let fd = open(dir.path, O_RDONLY | O_DIRECTORY)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }
}
