import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Idle compaction of the process's mapped code (issue 30), the way Android compacts a cached app, but
/// keeping the page cache warm: once the daemon has gone quiet, `madvise(MADV_DONTNEED)` on the mappings
/// of its binary and libraries that hold nothing but clean pages of their file. For such a mapping
/// DONTNEED only drops the process's page-table entries: the pages stay in the page cache, so whatever
/// the daemon runs next is a minor fault from memory — no disk read, no disk spun up. Start-up's scattered
/// touches had left ~22 MiB of the binary's code mapped (the kernel maps 64 KiB around each fault), and
/// an idle daemon runs a small part of it.
///
/// What is never touched: a mapping that can be written (its pages may be the process's own), one with
/// any anonymous (copy-on-write) page — a RELRO segment's relocations, which DONTNEED would throw away,
/// putting the file's unrelocated bytes back —, anonymous memory, stacks, `[vdso]`/`[vvar]`, and file
/// mappings of anything but a loaded object (a file with an executable mapping): a data file mapped by
/// Foundation could be unmapped between reading smaps and the `madvise`, and its address reused.
package enum MappedCode {
    /// One mapping of `/proc/<pid>/smaps`: its range, permissions (`r-xp`), backing path (empty, or
    /// `[heap]`-like for the kernel's own), resident and anonymous KiB.
    package struct Mapping: Equatable, Sendable {
        package var start: UInt
        package var end: UInt
        package var perms: String
        package var path: String
        package var rssKiB: Int
        package var anonymousKiB: Int
        /// Offset, device and inode (`00026000 fe:00 333151`): which file, and where in it, the range maps.
        package var identity: String = ""
    }

    /// The mappings of smaps text, in order. A header line is `start-end perms offset dev inode [path]`;
    /// the lines after it are `Name: value [kB]` fields (`VmFlags:` included).
    package static func mappings(smaps: String) -> [Mapping] {
        var out: [Mapping] = []
        for line in smaps.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first.hasSuffix(":") {
                guard !out.isEmpty, fields.count >= 2, let kib = Int(fields[1]) else { continue }
                if first == "Rss:" { out[out.count - 1].rssKiB = kib }
                if first == "Anonymous:" { out[out.count - 1].anonymousKiB = kib }
                continue
            }
            let bounds = first.split(separator: "-")
            guard fields.count >= 5, bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16) else { continue }
            let path = fields.count == 6 ? fields[5].trimmingCharacters(in: .whitespaces) : ""
            out.append(
                Mapping(
                    start: start, end: end, perms: String(fields[1]), path: path, rssKiB: 0, anonymousKiB: 0,
                    identity: "\(fields[2]) \(fields[3]) \(fields[4])"))
        }
        return out
    }

    /// The mappings that hold only clean, read-only pages of a loaded object's file: readable, not
    /// writable, private, backed by a path of a file that also has an executable mapping (the binary or
    /// a shared library), no anonymous page, something resident.
    package static func compactable(_ maps: [Mapping]) -> [Mapping] {
        let objects = Set(maps.filter { $0.path.hasPrefix("/") && $0.perms.contains("x") }.map(\.path))
        return maps.filter { m in
            let p = Array(m.perms)
            return p.count == 4 && p[0] == "r" && p[1] != "w" && p[3] == "p" && m.path.hasPrefix("/") && objects.contains(m.path)
                && m.anonymousKiB == 0 && m.rssKiB > 0
        }
    }

    /// A /proc file read to its end. Its size reads as 0, and one `read` of smaps returns about a page
    /// of it: a reader that trusts either sees only the first mappings (the binary's, not the libraries').
    package static func procText(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return n == 0 ? String(decoding: bytes, as: UTF8.self) : nil }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    /// The process's resident KiB backed by files (the binary's and libraries' pages, and shared memory):
    /// `/proc/self/statm`'s third field, a read of a few lines rather than smaps' walk of every mapping.
    package static func fileResidentKiB() -> Int {
        guard let text = procText("/proc/self/statm") else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count >= 3, let pages = Int(fields[2]) else { return 0 }
        return pages * (Int(sysconf(Int32(_SC_PAGESIZE))) / 1024)
    }

    /// What one compaction did: mappings dropped, and their resident KiB before.
    package struct Outcome: Sendable, Equatable {
        package var mappings: Int
        package var kib: Int
    }

    /// The mappings the last `compact` dropped: what `recompact` drops again.
    private static let dropped = Mutex<[Mapping]>([])

    /// Drops this process's compactable mappings (see the type's note); a failed `madvise` (a mapping
    /// gone or locked meanwhile) is skipped. Reads /proc/self/smaps, a few milliseconds of the kernel's
    /// time walking the page tables; call once per quiet period.
    @discardableResult
    package static func compact() -> Outcome {
        #if os(Linux)
            guard let text = procText("/proc/self/smaps") else { return Outcome(mappings: 0, kib: 0) }
            var done = Outcome(mappings: 0, kib: 0)
            var gone: [Mapping] = []
            for m in compactable(mappings(smaps: text)) {
                guard let base = UnsafeMutableRawPointer(bitPattern: m.start) else { continue }
                if madvise(base, Int(m.end - m.start), MADV_DONTNEED) == 0 {
                    done.mappings += 1
                    done.kib += m.rssKiB
                    gone.append(m)
                }
            }
            dropped.withLock { $0 = gone }
            return done
        #else
            return Outcome(mappings: 0, kib: 0)
        #endif
    }

    /// Of the mappings `compact` chose, those still mapped exactly as they were — the same range,
    /// permissions, path, offset, device and inode — in `maps` (/proc/self/maps text): a library unloaded
    /// since and another mapped at its range (a replaced file at the same path is another inode), or a
    /// mapping made writable, is left alone.
    package static func stillMapped(_ chosen: [Mapping], maps: String) -> [Mapping] {
        struct Key: Hashable {
            var start: UInt, end: UInt, perms: String, path: String, identity: String
        }
        func key(_ m: Mapping) -> Key { Key(start: m.start, end: m.end, perms: m.perms, path: m.path, identity: m.identity) }
        let now = Set(mappings(smaps: maps).map(key))
        return chosen.filter { now.contains(key($0)) }
    }

    /// Whether a debugger is attached (`TracerPid:` of /proc/self/status): its breakpoints are written
    /// into the code's pages, which `recompact` — trusting the spell's one read of smaps — would throw away.
    static func traced() -> Bool {
        guard let status = procText("/proc/self/status") else { return true }
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("TracerPid:") }) else { return false }
        return line.split(separator: "\t").last.map { $0.trimmingCharacters(in: .whitespaces) != "0" } ?? false
    }

    /// Drops again what the last `compact` dropped, for code that periodic work of a quiet spell (the
    /// safety net's rounds, the notifiers' minute) faulted back in. It checks the mappings against
    /// /proc/self/maps, which lists them without walking their page tables: ~0.2 ms, where `compact`'s read
    /// of smaps took ~7 ms of an idle minute run twice. Whether a mapping holds an anonymous page is known
    /// from that read only: a read-only mapping of a loaded object gains none while it stays read-only and
    /// mapped from the same file — but for a breakpoint written into it, so nothing is dropped again while a
    /// debugger is attached. (A uprobe placed meanwhile by a profiler is not seen: the next look at that
    /// code faults the file's page back, without the probe.)
    @discardableResult
    package static func recompact() -> Outcome {
        #if os(Linux)
            let chosen = dropped.withLock { $0 }
            guard !chosen.isEmpty, !traced(), let text = procText("/proc/self/maps") else { return Outcome(mappings: 0, kib: 0) }
            var done = Outcome(mappings: 0, kib: 0)
            for m in stillMapped(chosen, maps: text) {
                guard let base = UnsafeMutableRawPointer(bitPattern: m.start) else { continue }
                if madvise(base, Int(m.end - m.start), MADV_DONTNEED) == 0 { done.mappings += 1 }
            }
            return done
        #else
            return Outcome(mappings: 0, kib: 0)
        #endif
    }
}
