import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Names that are never drops: temp files of downloaders, editors and rsync, and NAS/OS litter
/// (ARCHITECTURE.md, "What counts as a drop"). Extra glob patterns come from the pipeline.
public struct JunkFilter: Sendable {
    public static let builtIn = ["*.part", "*.tmp", "*.crdownload", "*.partial", "*.download", "~$*", "._*", ".DS_Store", "@eaDir", "#recycle", "Thumbs.db", "desktop.ini"]
    let patterns: [String]

    public init(extra: [String] = []) { patterns = Self.builtIn + extra }

    /// True for a name (one path component) that must be ignored, file or folder.
    public func isJunk(_ name: String) -> Bool {
        if name.hasPrefix(".") { return true }   // dotfiles, rsync's .name.XXXXXX temp files
        return patterns.contains { fnmatch($0, name, 0) == 0 }
    }

    /// True if any component of a relative path is junk (e.g. inside @eaDir).
    public func isJunkPath(_ relPath: String) -> Bool {
        relPath.split(separator: "/").contains { isJunk(String($0)) }
    }
}
