import Foundation
import OmniPostCore
import OmniPostLedger

/// Drop ids people can read: the clip's stem, made safe for a folder name, plus a short random suffix.
enum DropNaming {
    static func newID(stem: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-_")
        var slug = String(stem.lowercased().map { allowed.contains($0) ? $0 : "-" })
        while slug.contains("--") { slug = slug.replacingOccurrences(of: "--", with: "-") }
        slug = String(slug.trimmingCharacters(in: CharacterSet(charactersIn: "-")).prefix(40))
        if slug.isEmpty { slug = "drop" }
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return slug + "-" + String(repeating: "0", count: max(0, 8 - suffix.count)) + suffix
    }

    static let clipExtensions: Set<String> = ["mp4", "mov", "m4v", "webm", "mkv", "avi"]
    static let sidecarExtensions: Set<String> = ["yaml", "yml", "json"]

    /// What a complete file is to the pipeline. Images, audio and covers are `other`: recorded so a
    /// slideshow or cover can wait for them, never drops themselves.
    static func role(of relPath: String) -> FileRecord.Role {
        if ClipList.isClipList(relPath) { return .manifest }
        let ext = (relPath as NSString).pathExtension.lowercased()
        if clipExtensions.contains(ext) { return .clip }
        if sidecarExtensions.contains(ext) { return .sidecar }
        return .other
    }

    /// The stems a sidecar may pair by: `dir/clip.yaml` → `dir/clip`; `dir/clip.mp4.yaml` → `dir/clip.mp4` and `dir/clip`.
    static func sidecarKeys(_ relPath: String) -> [String] {
        let base = (relPath as NSString).deletingPathExtension
        var keys = [base]
        if clipExtensions.contains((base as NSString).pathExtension.lowercased()) { keys.append((base as NSString).deletingPathExtension) }
        return keys
    }

    static func clipKeys(_ relPath: String) -> [String] {
        [relPath, (relPath as NSString).deletingPathExtension]
    }

    /// Whether a file at `path` would pair under one of `keys` (as a clip or as a sidecar).
    static func pairs(_ path: String, with keys: Set<String>) -> Bool {
        clipKeys(path).contains(where: keys.contains) || sidecarKeys(path).contains(where: keys.contains)
    }
}

/// Waiting files by the keys they pair under, per role: one ledger read indexed once, so deciding
/// thousands of lone files in a pass asks a set per file instead of scanning every waiting file for each
/// (`DropNaming.pairs` tried against every row: quadratic in a flood of lone sidecars).
struct WaitingPartners {
    private var keysByRole: [FileRecord.Role: Set<String>] = [:]

    init(_ files: [FileRecord]) {
        for f in files {
            keysByRole[f.role, default: []].formUnion(DropNaming.clipKeys(f.path))
            keysByRole[f.role, default: []].formUnion(DropNaming.sidecarKeys(f.path))
        }
    }

    /// Whether a waiting file of `role` pairs under one of `keys` (as `DropNaming.pairs` answers it).
    func any(pairingWith keys: [String], role: FileRecord.Role) -> Bool {
        guard let known = keysByRole[role] else { return false }
        return keys.contains(where: known.contains)
    }
}
