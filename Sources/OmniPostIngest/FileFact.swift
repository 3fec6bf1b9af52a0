/// What the watcher knows about one file: metadata only, never its contents.
package struct FileFact: Sendable, Hashable {
    /// Path relative to the inbox, with `/` separators.
    package var relPath: String
    package var size: Int64
    package var mtime: Double
    package var inode: Int64
    package var isSymlink: Bool
    /// Hard links to the file. More than one: another name (outside the inbox, maybe) can be writing it
    /// with no event here and no close we can see.
    package var links: Int

    package init(relPath: String, size: Int64, mtime: Double, inode: Int64, isSymlink: Bool = false, links: Int = 1) {
        self.relPath = relPath
        self.size = size
        self.mtime = mtime
        self.inode = inode
        self.isSymlink = isSymlink
        self.links = links
    }

    /// Same file, unchanged: what "settled" compares.
    func sameState(as other: FileFact) -> Bool { size == other.size && mtime == other.mtime && inode == other.inode }
}
