import Foundation
import Synchronization

/// The resident memory of a browser's whole process group, sampled every 100 ms while it runs: the
/// peak is what a NAS owner needs to know (one browser at a time is the default for that reason).
/// Each process's proportional share (`Pss` in `/proc/<pid>/smaps_rollup`) is summed: Chromium's
/// processes share most of their pages, and adding up each one's RSS would count those many times.
/// The group is read from `/proc/<pid>/stat` (field 5).
package final class RSSSampler: Sendable {
    private let group: pid_t
    private let state = Mutex<(peak: Int64, running: Bool)>((0, false))

    package init(group: pid_t) { self.group = group }

    package var peak: Int64 { state.withLock { $0.peak } }

    func start() {
        state.withLock { $0.running = true }
        let t = Thread { [self] in
            while state.withLock({ $0.running }) {
                let now = Self.groupRSS(group)
                state.withLock { $0.peak = max($0.peak, now) }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        t.start()
    }

    func stop() {
        let now = Self.groupRSS(group)
        state.withLock {
            $0.peak = max($0.peak, now)
            $0.running = false
        }
    }

    /// The processes of `group`, in stat's terms (its own state, the rest of the fields).
    static func members(_ group: pid_t) -> [(pid: String, state: Substring)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return names.compactMap { n in
            guard n.first?.isNumber == true, let stat = try? String(contentsOfFile: "/proc/\(n)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            // Fields after the command name (which may hold spaces) start at field 3 (state).
            let f = stat[stat.index(after: close)...].split(separator: " ")
            guard f.count > 2, Int32(f[2]) == group else { return nil }
            return (n, f[0])
        }
    }

    /// How many processes of `group` still run (a zombie has ended; it only waits to be reaped).
    package static func running(in group: pid_t) -> Int { members(group).filter { $0.state != "Z" }.count }

    /// The proportional resident memory of every process in `group`, summed, in bytes.
    package static func groupRSS(_ group: pid_t) -> Int64 {
        members(group).reduce(Int64(0)) { total, m in
            guard let text = try? String(contentsOfFile: "/proc/\(m.pid)/smaps_rollup", encoding: .utf8),
                let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Pss:") }),
                let kb = Int64(line.split(separator: " ").dropFirst().first ?? "")
            else { return total }
            return total + kb * 1024
        }
    }
}
