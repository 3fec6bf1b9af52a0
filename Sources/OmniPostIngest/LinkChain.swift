import Foundation
import OmniPostCore
#if canImport(Glibc)
    import Glibc
#endif

/// The links a path goes through, each as the folder that holds it and its name: `/srv/inbox` →
/// `/data/current` → `v1` is `[("/srv", "inbox"), ("/data", "current")]`. Whatever replaces or removes one
/// of them (`ln -sfn`, `mv -T`, `rm` and `ln -s`) changes the folder the path leads to: an inotify watch on
/// each of those folders sees it happen (`InotifySource.watchLinks`).
enum LinkChain {
    static func links(on path: String) -> [(dir: String, name: String)] {
        var out: [(dir: String, name: String)] = []
        let start = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var parts = start.split(separator: "/").map(String.init)
        var resolved = ""
        var hops = 0
        var i = 0
        while i < parts.count {
            let name = parts[i]
            i += 1
            if name == "." { continue }
            if name == ".." {
                resolved = PathText.parent(resolved)
                if resolved == "/" { resolved = "" }
                continue
            }
            let p = resolved + "/" + name
            var st = stat()
            guard lstat(p, &st) == 0 else { break }
            guard st.st_mode & S_IFMT == S_IFLNK else {
                resolved = p
                continue
            }
            out.append((resolved.isEmpty ? "/" : resolved, name))
            // A loop of links (ELOOP for the kernel too) ends the walk.
            hops += 1
            guard hops <= 40, let target = try? FileManager.default.destinationOfSymbolicLink(atPath: p) else { break }
            if target.hasPrefix("/") { resolved = "" }
            parts = target.split(separator: "/").map(String.init) + parts[i...]
            i = 0
        }
        return out
    }
}
