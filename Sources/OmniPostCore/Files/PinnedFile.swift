import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// The file a delivery hands on — to a user's program, in a webhook's body — opened once, without
/// following a link, and checked against the size and digest recorded when it was taken (XXH3-128, or
/// the sha256 of a row from before ledger v22: `UploadJob.changeCheck`). From then on
/// it is read through this descriptor only, so a name swapped for a link (or another file) after the
/// check can put nothing else in its place.
package final class PinnedFile: @unchecked Sendable {
    package let fd: Int32
    package let path: String
    package let size: Int64
    private let device: UInt64
    private let inode: UInt64
    /// When its bytes last changed as it was opened (ns): a file adopted without a digest has nothing else
    /// to tell a same-size rewrite in place by, once a copy of it is made.
    private let modified: Int64
    /// The digest the file was checked against when it was opened, for a copy made of it later.
    private let expected: FileDigest?

    /// Opens `path` (`O_NOFOLLOW`: a link is refused) and checks it is a regular file of `size` bytes
    /// whose contents hash to `expected` (when given). Throws `source_changed` when it is not that file.
    package init(path: String, size: Int64, expected: FileDigest?) throws {
        let name = (path as NSString).lastPathComponent
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else {
            let e = errno
            throw OmniError(
                e == ELOOP ? .sourceChanged : .unreadable,
                e == ELOOP ? "\(name) is now a link, not the file that was taken; nothing was sent" : "\(name) cannot be read (\(String(cString: strerror(e))))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, Int64(st.st_size) == size else {
            close(fd)
            throw OmniError(.sourceChanged, "\(name) is not the \(size)-byte file that was taken; nothing was sent")
        }
        self.fd = fd
        self.path = path
        self.size = size
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        modified = Self.modified(st)
        self.expected = expected?.hex.isEmpty == true ? nil : expected
        if let expected, !expected.hex.isEmpty {
            let got = try BeneathDirectory.digest(fd: fd, expected.algorithm)
            guard got.hex == expected.hex, got.bytes == size else {
                throw OmniError(
                    .sourceChanged,
                    "\(name) changed after it was taken (its bytes' \(expected.algorithm.rawValue) is \(got.hex.prefix(12))…, not \(expected.hex.prefix(12))…); nothing was sent")
            }
        }
    }

    /// Adopts a descriptor the caller opened and checked (relative to a folder descriptor, without
    /// following a link); closed with this object.
    package init(adopting fd: Int32, path: String) throws {
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw OmniError(.sourceChanged, "\((path as NSString).lastPathComponent) is not a regular file")
        }
        self.fd = fd
        self.path = path
        size = Int64(st.st_size)
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        modified = Self.modified(st)
        expected = nil
    }

    private static func modified(_ st: stat) -> Int64 { Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec) }

    /// A hasher for reading this file through once, where it was checked against a digest when opened: what
    /// is read is then held to that digest (`confirm`). Nil for a file adopted without one.
    package func hasher() -> FileDigest.Hasher? { expected.map { FileDigest.Hasher($0.algorithm) } }

    /// That the bytes just read through the descriptor, all of them, are the file as it was checked — before
    /// the last of them goes anywhere (a copy's end, a request body's last block): still its size; and the
    /// digest of what was read (`hasher`'s) the one checked at open, or, for a file adopted without one, its
    /// mtime as it was then (a rewrite in place at the same size moves it). Throws `source_changed`, the
    /// sentence ending with `after` (what that means: "nothing was sent").
    package func confirm(read hasher: FileDigest.Hasher?, after: String) throws {
        let name = (path as NSString).lastPathComponent
        var now = stat()
        guard fstat(fd, &now) == 0 else { throw OmniError(.unreadable, "\(name) cannot be read (\(String(cString: strerror(errno)))); \(after)") }
        if Int64(now.st_size) != size { throw OmniError(.sourceChanged, "\(name) is now \(now.st_size) bytes, not the \(size) taken; \(after)") }
        if let expected, let hasher {
            guard hasher.hex() == expected.hex else {
                throw OmniError(
                    .sourceChanged, "\(name) changed after it was taken (its bytes' \(expected.algorithm.rawValue) is no longer the one recorded); \(after)")
            }
        } else if Self.modified(now) != modified {
            throw OmniError(.sourceChanged, "\(name) was written to after it was taken (its mtime moved); \(after)")
        }
    }

    deinit { close(fd) }

    /// Whether `path` (not followed) is still this very file.
    package func isStill(_ path: String) -> Bool {
        guard let now = Identity(path) else { return false }
        return now.device == device && now.inode == inode && now.size == size
    }

    /// Which file a name is (not followed), its size and when its bytes last changed: what a name handed
    /// to a program must still be after it ran — the pinned file itself where it was linked, the copy where
    /// it was copied. Not its ctime: another delivery linking the same rendition changes that.
    package struct Identity: Equatable, Sendable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int64

        package init?(_ path: String) {
            var st = stat()
            guard lstat(path, &st) == 0 else { return nil }
            (device, inode, size) = (UInt64(st.st_dev), UInt64(st.st_ino), Int64(st.st_size))
            modified = PinnedFile.modified(st)
        }
    }

    /// A name for this file that nobody else can change: `dir/<private folder 0700>/<name>`, a hard link
    /// made from the descriptor (`/proc/self/fd`), or — where the file system cannot link there — a copy
    /// made from it and checked. The caller removes it with `removePrivate`.
    package func privateName(in dir: String, name: String) throws -> String {
        try privateName(in: dir, name: name, copying: true)!
    }

    /// `privateName`, or — with `copying` false, where no hard link can be made (another file system) —
    /// nil rather than a copy: a multi-gigabyte clip is not copied only to be read once.
    package func privateName(in dir: String, name: String, copying: Bool) throws -> String? {
        let folder = (dir as NSString).appendingPathComponent(".omnipost-private-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))")
        guard mkdir(folder, 0o700) == 0 else { throw OmniError(.internalError, "cannot create \(folder): \(String(cString: strerror(errno)))") }
        let dst = (folder as NSString).appendingPathComponent(name.isEmpty || name.contains("/") ? "media" : name)
        if linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, dst, AT_SYMLINK_FOLLOW) == 0, isStill(dst) { return dst }
        unlink(dst)
        guard copying else {
            rmdir(folder)
            return nil
        }
        // Another file system (or none that links): a copy from the descriptor, hashed as it is written and
        // compared with the digest checked when the file was opened, and exactly its size — a file changed
        // in place or added to since is not copied as if it were the one taken.
        let out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard out >= 0 else {
            let e = errno
            rmdir(folder)
            throw OmniError(.internalError, "cannot create \(dst): \(String(cString: strerror(e)))")
        }
        var made = false
        defer {
            close(out)
            // A copy that is not the file taken is not left behind.
            if !made { Self.removePrivate(dst) }
        }
        let hasher = hasher()
        // One byte past the size, to tell a file that grew.
        let at = try FileBlocks.forEach(fd, length: size + 1, failed: FileBlocks.unreadable(path)) { block in
            hasher?.update(block)
            do { try BeneathDirectory.writeAll(out, block, what: dst) } catch { throw OmniError(.archiveIO, "\(error)") }
        }
        guard at == size else { throw OmniError(.sourceChanged, "\(path) is now \(at > size ? "more" : "fewer") than its \(size) bytes; nothing was sent") }
        // The digest checked at open, or — a file adopted without one, its name checked against the ledger's
        // row by size and mtime — that mtime, held through the copy.
        try confirm(read: hasher, after: "nothing was sent")
        guard fsync(out) == 0 else { throw OmniError(.archiveIO, "cannot flush \(dst): \(String(cString: strerror(errno)))") }
        made = true
        return dst
    }

    /// Removes a name `privateName` made, and its private folder.
    package static func removePrivate(_ path: String) {
        unlink(path)
        rmdir(PathText.parent(path))
    }
}
