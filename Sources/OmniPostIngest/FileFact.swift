/// What the watcher knows about one file: metadata only, never its contents.
public struct FileFact: Sendable, Hashable {
    /// Path relative to the inbox, with `/` separators.
    public var relPath: String
    public var size: Int64
    public var mtime: Double
    public var inode: Int64
    public var isSymlink: Bool
    /// Hard links to the file. More than one: another name (outside the inbox, maybe) can be writing it
    /// with no event here and no close we can see.
    public var links: Int

    public init(relPath: String, size: Int64, mtime: Double, inode: Int64, isSymlink: Bool = false, links: Int = 1) {
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
