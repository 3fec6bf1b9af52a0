import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// What a file is, cheaply: device, inode, size and mtime (ns). Taken around the hash and compared
/// before the probe, before conversion and around the upload of the original: the bytes that were
/// hashed are the bytes that go out, or the drop is withdrawn.
package struct FileIdentity: Sendable, Equatable, CustomStringConvertible {
    package var device: UInt64
    package var inode: UInt64
    package var size: Int64
    package var mtimeNs: Int64

    package static func of(path: String) -> FileIdentity? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileIdentity(
            device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
            mtimeNs: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
    }

    package var description: String { "\(device):\(inode):\(size):\(mtimeNs)" }

    package init(device: UInt64, inode: UInt64, size: Int64, mtimeNs: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.mtimeNs = mtimeNs
    }

    package init?(_ text: String) {
        let p = text.split(separator: ":")
        guard p.count == 4, let d = UInt64(p[0]), let i = UInt64(p[1]), let s = Int64(p[2]), let m = Int64(p[3]) else { return nil }
        self.init(device: d, inode: i, size: s, mtimeNs: m)
    }

    /// The sentence for a change, or nil when `path` is still this file.
    package func change(at path: String) -> String? {
        guard let now = FileIdentity.of(path: path) else { return "it is gone" }
        if now.inode != inode || now.device != device { return "it was replaced by another file" }
        if now.size != size { return "it changed size (\(size) → \(now.size) bytes)" }
        if now.mtimeNs != mtimeNs { return "it was written to again" }
        return nil
    }
}
