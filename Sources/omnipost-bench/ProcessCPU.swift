import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// CPU seconds (user + system) a process has used: what the upload rows set beside wall-clock time, since
/// on a 2-core machine shared with builds the wall clock moves with the load and the CPU a GiB does not.
enum ProcessCPU {
    /// This process, every thread.
    static func selfSeconds() -> Double {
        var u = rusage()
        getrusage(0, &u)  // RUSAGE_SELF
        return seconds(u)
    }

    /// A finished child's, from the rusage `wait4` gave (its own and its waited-for children's).
    static func seconds(_ u: rusage) -> Double {
        Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
    }

    /// A running process's, from `/proc/<pid>/stat` (utime and stime, in clock ticks): the sandbox's
    /// CPU across one side's run. Nil when it cannot be read.
    static func of(pid: Int32) -> Double? {
        split(pid: pid).map { $0.user + $0.system }
    }

    /// The same, user and system apart: a sandbox spending its time in the kernel (copies, page
    /// allocation) is told from one spending it parsing.
    static func split(pid: Int32) -> (user: Double, system: Double)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // After the command name in parentheses: state is field 3, utime 14, stime 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let tick = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (user / tick, system / tick)
    }
}
