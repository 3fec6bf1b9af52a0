import Foundation
import Prometheus

/// The process's own figures under Prometheus's standard names (`process_*`, as every client library
/// exports them), read from `/proc/self` at each scrape: CPU time, resident memory, open and allowed
/// file descriptors, start time. On a NAS these answer "is it idling unnoticed?" without a shell.
enum ProcessMetrics {
    static func add(to r: PrometheusCollectorRegistry) {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return }
        // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15, starttime 22.
        let f = stat[stat.index(after: close)...].split(separator: " ").map(String.init)
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        if f.count > 19, let utime = Double(f[11]), let stime = Double(f[12]), let start = Double(f[19]), ticks > 0 {
            r.makeCounter(descriptor: d("cpu_seconds", "User and system CPU time spent, in seconds", unit: "total")).increment(by: (utime + stime) / ticks)
            if let boot = bootTime() {
                r.makeGauge(descriptor: d("start_time_seconds", "When the process started (Unix time)")).set(to: boot + start / ticks)
            }
        }
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let resident = statm.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        {
            r.makeGauge(descriptor: d("resident_memory_bytes", "Resident memory, in bytes")).set(to: resident * Double(sysconf(Int32(_SC_PAGESIZE))))
        }
        if let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            r.makeGauge(descriptor: d("open_fds", "Open file descriptors")).set(to: Double(fds.count))
        }
        var l = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &l) == 0 {
            r.makeGauge(descriptor: d("max_fds", "The limit on open file descriptors")).set(to: Double(l.rlim_cur))
        }
    }

    static func d(_ name: String, _ help: String, unit: String = "") -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "process", metricName: name, unitName: unit, helpText: help)
    }

    /// The kernel's boot time (`btime` in /proc/stat): a process's start is counted in ticks from it.
    static func bootTime() -> Double? {
        guard let s = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        return s.split(separator: "\n").first { $0.hasPrefix("btime ") }.flatMap { Double($0.dropFirst(6)) }
    }
}
