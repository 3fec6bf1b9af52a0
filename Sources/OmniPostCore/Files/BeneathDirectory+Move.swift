import Foundation
#if canImport(Glibc)
    import Glibc
#endif

extension BeneathDirectory {
    /// Moves the entry `name` of this folder — the very one `expected` describes (an `lstat` taken when it
    /// was checked), never followed if it is a link — to `dest`/`destName`, never replacing anything
    /// there. Between two open folders, never by a path: a folder on the way swapped for a link after
    /// the check cannot make this move anything else.
    ///
    /// A hard link is made at the destination first (atomic, `EEXIST` if taken) and checked to be the
    /// expected inode; only then is the source's name removed, and only if it is still that inode. A
    /// crash in between leaves the same file under both names, which the next attempt finishes. A file
    /// with other links (`nlink > 1`: not the inbox's alone), or on another file system, is copied from an
    /// open descriptor, fsynced and compared by hash before its name goes. Throws `source_changed` when
    /// the entry is no longer `expected`.
    package func move(_ name: String, expected: stat, to dest: BeneathDirectory, as destName: String) throws {
        let placed = try place(name, expected: expected, to: dest, as: destName)
        if placed.destUnsynced { fsync(dest.fd) }
        if try placed.removeSource() { fsync(fd) }
    }

    /// A move's first half (`move`), for a caller that files several originals and a report together and
    /// syncs each folder once: the file given its name at `dest`, the source's name still there. Then the
    /// caller syncs `dest` (when `destUnsynced`) and every folder it created, and only then calls
    /// `removeSource()` and syncs this folder — so a power cut leaves the file under one name or both, never
    /// neither.
    package struct Placed {
        /// A link or rename into `dest` not yet synced.
        package var destUnsynced: Bool
        fileprivate var removal: (() throws -> Bool)?

        /// Removes the source's name if it is still the file placed; true when this folder changed (to sync).
        package func removeSource() throws -> Bool { try removal?() ?? false }
    }

    package func place(_ name: String, expected: stat, to dest: BeneathDirectory, as destName: String) throws -> Placed {
        let shown = "\(path)/\(name)"
        let kept = "\(dest.path)/\(destName)"
        let removal: () throws -> Bool = { try self.removeIfStill(name, expected: expected, kept: kept) }
        if let there = dest.lstat(destName) {
            // A crash after the destination was complete: the same file (or the same bytes) means the move
            // is done but for the source's name.
            guard Self.sameFile(there, expected) || (try? sameBytes(name, expected: expected, as: dest, destName)) == true else {
                throw OmniError(.archiveIO, "refusing to overwrite \(dest.path)/\(destName), which holds different bytes")
            }
            // (Named there by an attempt that may have stopped before its sync.)
            return Placed(destUnsynced: true, removal: removal)
        }
        if Self.isRegular(expected), expected.st_nlink > 1 {
            try copy(name, expected: expected, to: dest, as: destName)
            return Placed(destUnsynced: false, removal: removal)
        }
        if linkat(fd, name, dest.fd, destName, 0) == 0 {
            guard let made = dest.lstat(destName), Self.sameFile(made, expected) else {
                // The name was swapped between the check and the link: what was linked is not ours to file.
                unlinkat(dest.fd, destName, 0)
                throw OmniError(.sourceChanged, "\(shown) was replaced while it was being filed; it was left where it is")
            }
            return Placed(destUnsynced: true, removal: removal)
        }
        let e = errno
        switch e {
        case ENOENT: throw OmniError(.sourceChanged, "\(shown) is gone")
        case EXDEV where Self.isRegular(expected):
            try copy(name, expected: expected, to: dest, as: destName)
            return Placed(destUnsynced: false, removal: removal)
        case EPERM, EOPNOTSUPP, ENOSYS, EMLINK:
            // No hard links here (some SMB shares): a rename between the two open folders, checked after.
            // The source's name is gone with it: both folders are synced (dest first, then this one).
            guard dest.lstat(destName) == nil else { throw OmniError(.archiveIO, "refusing to overwrite \(dest.path)/\(destName)") }
            guard renameat(fd, name, dest.fd, destName) == 0 else {
                throw OmniError(.archiveIO, "cannot move \(shown) to \(dest.path)/\(destName): \(String(cString: strerror(errno)))")
            }
            if let moved = dest.lstat(destName), !Self.sameFile(moved, expected) {
                // Swapped in the instant between the check and the rename: put it back where it was.
                _ = renameat(dest.fd, destName, fd, name)
                throw OmniError(.sourceChanged, "\(shown) was replaced while it was being filed; it was left where it is")
            }
            return Placed(destUnsynced: true, removal: { true })
        default:
            throw OmniError(.archiveIO, "cannot move \(shown) to \(dest.path)/\(destName): \(String(cString: strerror(e)))")
        }
    }

    /// Copies the regular file `name` — checked, through its open descriptor, to be `expected` — to
    /// `dest`/`destName`: a new temporary file, fsynced, compared by sha256 with the source descriptor,
    /// then given its name without replacing anything. Nothing is read through a name after the open.
    package func copy(_ name: String, expected: stat, to dest: BeneathDirectory, as destName: String) throws {
        let src = try openExpected(name, expected: expected)
        defer { close(src) }
        if dest.lstat(destName) != nil { return }
        let tmp = ".\(destName).\(String(UInt64.random(in: 0...UInt64.max), radix: 36)).copying"
        let out = try dest.open(tmp, O_RDWR | O_CREAT | O_EXCL, mode: 0o644)
        var published = false
        defer {
            close(out)
            if !published { unlinkat(dest.fd, tmp, 0) }
        }
        try FileBlocks.forEach(src, failed: { OmniError(.archiveIO, "cannot read \(path)/\(name): \(String(cString: strerror($0)))") }) {
            try Self.writeAll(out, $0, what: "\(dest.path)/\(tmp)")
        }
        guard fsync(out) == 0 else { throw OmniError(.archiveIO, "cannot flush \(dest.path)/\(tmp): \(String(cString: strerror(errno)))") }
        let a = try Self.sha256(fd: src), b = try Self.sha256(fd: out)
        guard a.hex == b.hex, a.bytes == b.bytes else { throw OmniError(.archiveIO, "the copy of \(path)/\(name) does not match its source") }
        guard try dest.publish(tmp, as: destName) else { throw OmniError(.archiveIO, "refusing to overwrite \(dest.path)/\(destName)") }
        published = true
    }

    /// Opens `name` for reading without following a link or blocking on a FIFO, and checks the open
    /// descriptor is the regular file `expected`. The caller closes it.
    package func openExpected(_ name: String, expected: stat) throws -> Int32 {
        let f: Int32
        do { f = try open(name, O_RDONLY | O_NONBLOCK | O_NOCTTY) } catch let e as Failure {
            throw OmniError(e.errno == ENOENT ? .sourceChanged : e.isLink ? .sourceChanged : .unreadable, "\(e)")
        }
        var st = stat()
        guard fstat(f, &st) == 0, Self.isRegular(st), Self.sameFile(st, expected) else {
            close(f)
            throw OmniError(.sourceChanged, "\(path)/\(name) is no longer the file that was taken")
        }
        return f
    }

    /// Same device, inode and size.
    package static func sameFile(_ a: stat, _ b: stat) -> Bool {
        a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size && a.st_mode & S_IFMT == b.st_mode & S_IFMT
    }

    private func sameBytes(_ name: String, expected: stat, as dest: BeneathDirectory, _ destName: String) throws -> Bool {
        let a = try openExpected(name, expected: expected)
        defer { close(a) }
        let b = try dest.open(destName, O_RDONLY | O_NONBLOCK | O_NOCTTY)
        defer { close(b) }
        return try Self.sha256(fd: a).hex == Self.sha256(fd: b).hex
    }

    /// Removes the source's name once its file is safe at `kept` — only if the name is still that file.
    /// True when a name was removed (this folder is then to be synced by the caller).
    private func removeIfStill(_ name: String, expected: stat, kept: String) throws -> Bool {
        guard let now = lstat(name), Self.sameFile(now, expected) else { return false }
        guard unlinkat(fd, name, 0) == 0 || errno == ENOENT else {
            throw OmniError(.archiveIO, "filed \(path)/\(name) as \(kept) but could not remove its name from the inbox: \(String(cString: strerror(errno)))")
        }
        return true
    }
}
