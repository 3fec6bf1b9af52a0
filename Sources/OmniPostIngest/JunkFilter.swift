import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Names that are never drops: temp files of downloaders, editors and rsync, and NAS/OS litter
/// (ARCHITECTURE.md, "What counts as a drop"). Extra glob patterns come from the pipeline.
package struct JunkFilter: Sendable {
    package static let builtIn = [
        // Downloaders and transfer tools: browsers (Firefox .part, Chrome .crdownload, Safari .download,
        // Opera .opdownload, File System Access .crswap), aria2, uTorrent, WinSCP, our own ffmpeg temps.
        "*.part", "*.crdownload", "*.download", "*.opdownload", "*.crswap", "*.aria2", "*.!ut", "*.filepart", "*.partial",
        // Editors: Office/LibreOffice locks (~$x, ~lock.x#), editor temps (~name, name~, vim swap files),
        // generic temp files.
        "~*", "*~", "*.sw?", "*.tmp", "*.temp",
        // Video editors' render and cache files: Premiere (peak, conformed audio, media cache, auto-save),
        // Resolve (CacheClip), Final Cut (Render Files, Transcoded Media).
        "*.pek", "*.cfa", "*.ims", "*.mcdb", "Adobe Premiere Pro Auto-Save", "CacheClip", "Render Files", "Transcoded Media",
        // NAS and OS litter.
        "._*", ".DS_Store", "@eaDir", "#recycle", "#snapshot", "Thumbs.db", "desktop.ini", "$RECYCLE.BIN", "System Volume Information"
    ]
    let patterns: [String]

    package init(extra: [String] = []) { patterns = Self.builtIn + extra }

    /// True for a name (one path component) that must be ignored, file or folder.
    package func isJunk(_ name: String) -> Bool {
        if name.hasPrefix(".") { return true }  // dotfiles, rsync's .name.XXXXXX temp files
        return patterns.contains { fnmatch($0, name, 0) == 0 }
    }

    /// True if any component of a relative path is junk (e.g. inside @eaDir).
    package func isJunkPath(_ relPath: String) -> Bool {
        relPath.split(separator: "/").contains { isJunk(String($0)) }
    }
}
