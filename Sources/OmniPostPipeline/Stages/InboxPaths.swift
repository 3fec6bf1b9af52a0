import Foundation
import OmniPostCore

/// Keeps every path a drop uses inside its inbox: `..`, absolute paths and symlinks that resolve
/// outside fail `path_escape`.
enum InboxPaths {
    static func resolveInside(inbox: String, relative rel: String) throws -> String {
        if rel.hasPrefix("/") || rel.split(separator: "/").contains("..") {
            throw OmniError(.pathEscape, "'\(rel)' points outside the inbox", at: SourceLocation(file: rel))
        }
        let root = URL(fileURLWithPath: inbox).resolvingSymlinksInPath().path
        let resolved = URL(fileURLWithPath: inbox).appendingPathComponent(rel).resolvingSymlinksInPath().path
        guard resolved == root || resolved.hasPrefix(root + "/") else {
            throw OmniError(.pathEscape, "'\(rel)' is a link to \(resolved), outside the inbox", at: SourceLocation(file: rel))
        }
        return resolved
    }

    /// A file named inside a manifest (`clip:`, a clip list's `filename`): never absolute, never up and out.
    static func checkReference(_ ref: String, from dir: String, at location: SourceLocation?) throws {
        let joined = ((dir.isEmpty ? ref : dir + "/" + ref) as NSString).standardizingPath
        if ref.hasPrefix("/") || ref.hasPrefix("~") || joined.hasPrefix("..") || joined.hasPrefix("/") {
            throw OmniError(.pathEscape, "'\(ref)' points outside the inbox; a manifest may only name files inside it", at: location)
        }
    }
}
