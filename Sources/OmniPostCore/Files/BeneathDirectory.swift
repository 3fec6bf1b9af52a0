import Crypto
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// A folder opened once, and everything under it reached relative to that descriptor, never through a
/// link: each subfolder with `O_DIRECTORY|O_NOFOLLOW`, each file with `O_NOFOLLOW`, new files with
/// `O_EXCL`. A destination share that others can write (a planted `.name.omnipost-partial` link, a
/// subfolder swapped for a link to elsewhere) can then make OmniPost write nowhere but inside it.
/// The folder itself is the operator's configuration and is resolved once, when opened.
package final class BeneathDirectory: @unchecked Sendable {
    package let fd: Int32
    /// For messages only: never opened again by this name.
    package let path: String

    /// A failed call with its errno, for the caller to classify (a full disk waits, a link is refused…).
    package struct Failure: Error, CustomStringConvertible {
        package var what: String
        package var errno: Int32
        package init(what: String, errno: Int32) {
            self.what = what
            self.errno = errno
        }
        package var description: String { "\(what): \(String(cString: strerror(errno)))" }
        /// The name was a symbolic link (or not a folder where one was needed): refused, never followed.
        package var isLink: Bool { errno == ELOOP || errno == ENOTDIR || errno == EMLINK }
    }

    package init(path: String) throws {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(what: "cannot open the folder \(path)", errno: errno) }
        self.fd = fd
        self.path = path
    }

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// The subfolder `rel` (`2026/12/05`), each part opened without following a link; created (0755)
    /// where missing when `create` is set. `..`, `.` and empty parts are refused.
    /// `created`: told each folder a subfolder was made in (its new entry is for the caller to sync).
    package func subdirectory(_ rel: String, create: Bool, created: ((BeneathDirectory) -> Void)? = nil) throws -> BeneathDirectory {
        var current: BeneathDirectory = self
        var shown = path
        for part in rel.split(separator: "/").map(String.init) {
            guard part != "..", part != "." else { throw Failure(what: "\(rel) leaves \(path)", errno: EPERM) }
            shown += "/" + part
            var sub = openat(current.fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if sub < 0, errno == ENOENT, create {
                if mkdirat(current.fd, part, 0o755) != 0 {
                    if errno != EEXIST { throw Failure(what: "cannot create \(shown)", errno: errno) }
                } else {
                    created?(current)
                }
                sub = openat(current.fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            guard sub >= 0 else { throw Failure(what: "cannot open \(shown)", errno: errno) }
            current = BeneathDirectory(fd: sub, path: shown)
        }
        return current
    }

    /// What `name` is, without following it; nil when there is nothing by that name.
    package func lstat(_ name: String) -> stat? {
        var st = stat()
        return fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st : nil
    }

    package static func isRegular(_ st: stat) -> Bool { st.st_mode & S_IFMT == S_IFREG }

    /// Opens `name` with `flags` plus `O_NOFOLLOW|O_CLOEXEC`: a link is refused (`ELOOP`), never followed.
    package func open(_ name: String, _ flags: Int32, mode: mode_t = 0o644) throws -> Int32 {
        let f = openat(fd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode)
        guard f >= 0 else { throw Failure(what: "cannot open \(path)/\(name)", errno: errno) }
        return f
    }

    /// Removes `name` itself (a link, not what it points to); nothing there is fine.
    package func remove(_ name: String) throws {
        if unlinkat(fd, name, 0) != 0, errno != ENOENT { throw Failure(what: "cannot remove \(path)/\(name)", errno: errno) }
    }

    /// Gives the finished file `from` its name `to`, never replacing anything there (not even a link):
    /// a hard link made atomically (`EEXIST` if the name is taken), then the old name removed. Where the
    /// file system has no hard links (some SMB shares), a rename after checking the name is free.
    /// Returns false when the name is taken.
    package func publish(_ from: String, as to: String) throws -> Bool {
        if linkat(fd, from, fd, to, 0) == 0 {
            try remove(from)
            fsync(fd)
            return true
        }
        let e = errno
        if e == EEXIST { return false }
        guard e == EPERM || e == EOPNOTSUPP || e == ENOSYS || e == EXDEV else { throw Failure(what: "cannot name \(path)/\(to)", errno: e) }
        if lstat(to) != nil { return false }
        guard renameat(fd, from, fd, to) == 0 else { throw Failure(what: "cannot rename into \(path)/\(to)", errno: errno) }
        fsync(fd)
        return true
    }

    /// Writes `data` under `name` whole or not at all: a new temporary file (`O_EXCL`), fsynced, renamed
    /// over the name. A link at the name is replaced, never written through.
    package func writeAtomically(_ data: Data, as name: String) throws {
        let tmp = ".\(name).\(String(UInt64.random(in: 0...UInt64.max), radix: 36)).tmp"
        let f = try open(tmp, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644)
        var ok = false
        defer { if !ok { unlinkat(fd, tmp, 0) } }
        do {
            try data.withUnsafeBytes { raw in try Self.writeAll(f, raw, what: "\(path)/\(tmp)") }
            guard fsync(f) == 0 else { throw Failure(what: "cannot flush \(path)/\(tmp)", errno: errno) }
        } catch {
            close(f)
            throw error
        }
        close(f)
        guard renameat(fd, tmp, fd, name) == 0 else { throw Failure(what: "cannot rename into \(path)/\(name)", errno: errno) }
        ok = true
        fsync(fd)
    }

    package static func writeAll(_ f: Int32, _ raw: UnsafeRawBufferPointer, what: String) throws {
        var done = 0
        while done < raw.count {
            let w = write(f, raw.baseAddress! + done, raw.count - done)
            if w < 0 { if errno == EINTR { continue }; throw Failure(what: "cannot write \(what)", errno: errno) }
            done += w
        }
    }

    /// sha256 and length of what an open descriptor holds, read from its start (pread: its offset is
    /// left alone). Reading the descriptor, not a name, is what makes the answer about this file.
    package static func sha256(fd: Int32) throws -> (hex: String, bytes: Int64) { try digest(fd: fd, .sha256) }

    /// The whole file behind `fd` hashed in `algorithm`, read by position (the descriptor's offset is left alone).
    package static func digest(fd: Int32, _ algorithm: FileDigest.Algorithm) throws -> (hex: String, bytes: Int64) {
        let hasher = FileDigest.Hasher(algorithm)
        let total = try FileBlocks.forEach(fd, failed: { Failure(what: "cannot read back", errno: $0) }) { hasher.update($0) }
        return (hasher.hex(), total)
    }
}
