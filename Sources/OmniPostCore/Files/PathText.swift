import Foundation

/// Path arithmetic on names people choose. Foundation on Linux traps in
/// `NSString.deletingLastPathComponent` for a one-character path (`a`, `7`, `é`) and for one ending in
/// a slash after one character (`a/`): a file named so in the inbox crashed the daemon at every start
/// (the watcher groups settled files by folder). Every parent of a path is taken here instead.
package enum PathText {
    /// The path without its last component, as `NSString.deletingLastPathComponent` answers where it does
    /// not trap: `a/b` → `a`, `/a` → `/`, `a` → ``, `a/b/` → `a`, `/` → `/`, `` → ``.
    /// By bytes, not Characters: a `/` followed by a combining mark is one Character that is not "/".
    package static func parent(_ path: String) -> String {
        let slash = UInt8(ascii: "/")
        var p = Array(path.utf8)[...]
        // Trailing slashes name the same component (but the root is the root).
        while p.count > 1, p.last == slash { p = p.dropLast() }
        guard let i = p.lastIndex(of: slash) else { return "" }
        var head = p[..<i]
        while head.count > 1, head.last == slash { head = head.dropLast() }
        return head.isEmpty ? "/" : String(decoding: head, as: UTF8.self)
    }
}
