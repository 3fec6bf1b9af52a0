import Foundation

/// A folder as the kernel knows it (device, inode), every link on the way followed: how the watcher and
/// the stages' path resolution tell that an inbox given through a link now leads somewhere else.
package struct FolderIdentity: Equatable, Sendable {
    package var device: UInt64, inode: UInt64

    package init?(of path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
    }
}
