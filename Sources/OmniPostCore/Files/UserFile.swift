import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Opening a file a user dropped, without ever blocking on it. A FIFO, a socket, a device or a
/// directory in the inbox (or a symlink to one) would hang a plain `open` or `read` forever in the
/// kernel and freeze the stage that touched it; every reader of user input goes through here.
package enum UserFile {
    /// What a path is once links are followed, for the `not_regular_file` sentence.
    package static func kindName(mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: return "a named pipe (FIFO)"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFDIR: return "a folder"
        case S_IFLNK: return "a symbolic link"
        default: return "not a regular file"
        }
    }

    /// Refuses anything that is not a regular file after following links, without opening it.
    package static func checkRegular(path: String, displayName: String) throws {
        var st = Glibc.stat()
        guard stat(path, &st) == 0 else {
            let why = String(cString: strerror(errno))
            throw OmniError(.unreadable, "\(displayName) cannot be read (\(why); a link to a file that does not exist?)", at: SourceLocation(file: displayName))
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw OmniError(
                .notRegularFile, "\(displayName) is \(kindName(mode: st.st_mode)), not a regular file; only regular files are read from the inbox",
                at: SourceLocation(file: displayName))
        }
    }

    /// Opens a regular file for reading. `O_NONBLOCK` makes the open itself return at once even if the
    /// path was swapped for a FIFO after the check; `fstat` on the open descriptor is the final word.
    package static func open(path: String, displayName: String? = nil) throws -> FileHandle {
        let name = displayName ?? path
        try checkRegular(path: path, displayName: name)
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else {
            let why = String(cString: strerror(errno))
            throw OmniError(.unreadable, "\(name) cannot be read (\(why))", at: SourceLocation(file: name))
        }
        var st = Glibc.stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            Glibc.close(fd)
            throw OmniError(
                .notRegularFile, "\(name) is \(kindName(mode: st.st_mode)), not a regular file; only regular files are read from the inbox",
                at: SourceLocation(file: name))
        }
        // Regular files ignore O_NONBLOCK; clear it anyway so reads behave as documented everywhere.
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    /// A small file's whole content (sidecars, manifests), refused unread past `maxBytes`.
    package static func read(path: String, displayName: String? = nil, maxBytes: Int, tooLarge: ReasonCode) throws -> Data {
        let name = displayName ?? path
        let h = try open(path: path, displayName: name)
        defer { try? h.close() }
        let size = (try? h.seekToEnd()) ?? 0
        if size > UInt64(maxBytes) {
            throw OmniError(tooLarge, "the file is \(size) bytes; the limit is \(maxBytes)", at: SourceLocation(file: name))
        }
        try h.seek(toOffset: 0)
        // One byte more than allowed tells a file that grew between the size check and the read.
        let data = try h.read(upToCount: maxBytes + 1) ?? Data()
        if data.count > maxBytes {
            throw OmniError(tooLarge, "the file grew past \(maxBytes) bytes while it was read", at: SourceLocation(file: name))
        }
        return data
    }
}
