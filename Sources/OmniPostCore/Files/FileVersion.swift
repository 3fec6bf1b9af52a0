import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// One version of a file, as a cache of its parse tells versions apart: device, inode, size, mtime and
/// ctime (nanoseconds). mtime alone is not enough where it is coarse (SMB, FAT: 2 s) — a file rewritten
/// in place to the same size within one tick, or with its mtime set back (`touch -r`, a copy keeping
/// times), looks unchanged by it; the ctime moves on every write and cannot be set back by a user.
/// (`FileIdentity` is the pinned identity the ledger stores for a clip: its text form is left as it is.)
package struct FileVersion: Sendable, Hashable {
    package var device: UInt64
    package var inode: UInt64
    package var size: Int64
    package var mtimeNs: Int64
    package var ctimeNs: Int64

    package init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        mtimeNs = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        ctimeNs = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
    }

    /// The version at `path` (followed, as the readers that parse it follow it); nil when there is none.
    package static func of(path: String) -> FileVersion? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileVersion(st)
    }
}
