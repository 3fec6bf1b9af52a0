import Foundation
import OmniPostCore
import OmniPostIngest
import Synchronization

/// Keeps every path a drop uses inside its inbox: `..`, absolute paths and symlinks that resolve
/// outside fail `path_escape` — clips, sidecars, clip lists, covers and images alike.
enum InboxPaths {
    static func resolveInside(inbox: String, relative rel: String) throws -> String {
        guard normalized(rel) != nil else {
            throw OmniError(.pathEscape, "'\(Excerpt.quote(rel))' points outside the inbox", at: SourceLocation(file: rel))
        }
        var root = realRoot(inbox)
        var resolved = beneath(root, rel) ?? realPath(inbox + "/" + rel)
        if resolved != root, !resolved.hasPrefix(root + "/") {
            // The inbox's own real path, as remembered, may be out of date (its folder moved, or made a
            // link, since): asked again before anything is refused.
            root = realRoot(inbox, again: true)
            resolved = beneath(root, rel) ?? realPath(inbox + "/" + rel)
        }
        guard resolved == root || resolved.hasPrefix(root + "/") else {
            throw OmniError(.pathEscape, "'\(rel)' is a link to a file outside the inbox; only files inside it are read", at: SourceLocation(file: rel))
        }
        return resolved
    }

    /// Each inbox's real path, with the folder it was: realpath(3) of the inbox asked a `readlink` of every
    /// folder from `/` down for every path of every drop (issue 30), so it is remembered — but only while
    /// the configured path still leads to that folder (`stat` follows every link on the way: an inbox link
    /// re-pointed, or a link it goes through, `/srv/inbox` → `/data/current` → `v1` with `current` re-pointed)
    /// and the remembered path still names it (the folder renamed). Two `stat`s a call, no `readlink`.
    private static let roots = Mutex<[String: (root: String, folder: FolderIdentity)]>([:])

    static func realRoot(_ inbox: String, again: Bool = false) -> String {
        if !again, let known = roots.withLock({ $0[inbox] }), let now = FolderIdentity(of: inbox), now == known.folder,
            FolderIdentity(of: known.root) == known.folder
        {
            return known.root
        }
        let root = realPath(inbox)
        if let folder = FolderIdentity(of: root) { roots.withLock { $0[inbox] = (root, folder) } }
        return root
    }

    /// `root`/`rel` when `rel` is written plainly (no `.`, `..` or empty parts) and no part of it is a link
    /// — realpath's answer, from one `lstat` per part of `rel` rather than a `readlink` per part of the
    /// whole path. Nil otherwise (a link on the way, a part missing): realpath(3) then resolves it.
    static func beneath(_ root: String, _ rel: String) -> String? {
        guard normalized(rel) == rel, !rel.isEmpty else { return nil }
        var path = root
        for part in rel.split(separator: "/") {
            path += "/" + part
            var st = stat()
            guard lstat(path, &st) == 0, st.st_mode & S_IFMT != S_IFLNK else { return nil }
        }
        return path
    }

    /// Where `path` really is, every link on the way followed: realpath(3), a system call per part of the
    /// path — Foundation's `resolvingSymlinksInPath` (with a `URL` built around it) cost several times that
    /// and was asked three times for every sidecar (issue 30). A path that does not resolve (a dangling
    /// link, a file gone) is resolved as far as it goes, as before.
    static func realPath(_ path: String) -> String {
        guard let p = realpath(path, nil) else { return URL(fileURLWithPath: path).resolvingSymlinksInPath().path }
        defer { free(p) }
        return String(cString: p)
    }

    /// `a/./b/../c` → `a/c`; nil when the path is absolute, starts at a home folder, or climbs above
    /// where it starts. Lexical, so `sub/../../x` is caught however many folders deep it is written.
    static func normalized(_ path: String) -> String? {
        if path.hasPrefix("/") || path.hasPrefix("~") || path.contains("\0") { return nil }
        var parts: [Substring] = []
        for p in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch p {
            case ".": continue
            case "..":
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            default: parts.append(p)
            }
        }
        return parts.joined(separator: "/")
    }

    /// A file named inside a manifest (`clip:`, a clip list's `filename` or `path`), relative to the
    /// manifest's folder: never absolute, never up and out.
    static func checkReference(_ ref: String, from dir: String, at location: SourceLocation?) throws {
        guard !ref.hasPrefix("/"), normalized(dir.isEmpty ? ref : dir + "/" + ref) != nil else {
            throw OmniError(.pathEscape, "'\(Excerpt.quote(ref))' points outside the inbox; a manifest may only name files inside it", at: location)
        }
    }
}
