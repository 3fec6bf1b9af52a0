import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// ffmpeg runs left behind by a daemon that was killed. A killed daemon cannot take its children with
/// it (swift-subprocess has no PR_SET_PDEATHSIG hook), so they keep burning CPU on renditions nobody
/// will use. They are ours when their output is a `.partial` name in our work/ folder, and orphaned when
/// the pid written into that name (`.<file>.<pid>-<nonce>.partial`) is no longer running. Killed at start.
package enum OrphanReaper {
    package struct Orphan: Sendable, Equatable {
        package var pid: Int32
        package var ownerPid: Int32
        package var output: String
    }

    /// The orphans under `work` (read from /proc; nothing is killed).
    package static func find(work: String, isAlive: (Int32) -> Bool = alive) -> [Orphan] {
        let prefix = (work.hasSuffix("/") ? work : work + "/")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var out: [Orphan] = []
        for name in names {
            guard let pid = Int32(name), pid != getpid(),
                let raw = FileManager.default.contents(atPath: "/proc/\(name)/cmdline"), !raw.isEmpty
            else { continue }
            let args = raw.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            guard let tool = args.first.map({ ($0 as NSString).lastPathComponent }), tool == "ffmpeg" || tool == "ffprobe" else { continue }
            for arg in args.dropFirst() {
                let path = arg.hasPrefix("file:") ? String(arg.dropFirst(5)) : arg
                guard path.hasPrefix(prefix), path.hasSuffix(".partial"), let owner = ownerPid(of: path) else { continue }
                if !isAlive(owner) { out.append(Orphan(pid: pid, ownerPid: owner, output: path)) }
                break
            }
        }
        return out
    }

    /// Kills every orphan under `work`; returns what was killed.
    @discardableResult
    package static func reap(work: String) -> [Orphan] {
        let found = find(work: work)
        for o in found {
            kill(o.pid, SIGKILL)
        }
        return found
    }

    /// `.<file>.<pid>-<nonce>.partial` → pid.
    static func ownerPid(of path: String) -> Int32? {
        let name = (path as NSString).lastPathComponent
        guard name.hasSuffix(".partial") else { return nil }
        let stem = name.dropLast(".partial".count)
        guard let dot = stem.lastIndex(of: ".") else { return nil }
        let tail = stem[stem.index(after: dot)...]
        guard let dash = tail.firstIndex(of: "-") else { return nil }
        return Int32(tail[..<dash])
    }

    package static func alive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }
}
