import Foundation
import OmniPostCore

// 3. Idle: CPU time, wake-ups and RSS of the daemon watching 8 idle inboxes, against inotifywait on the
// same folders (issue 30's goals: ≤ 0.05 CPU-s a minute, ≤ 40 MiB).

struct ProcStats {
    /// utime + stime from /proc/<pid>/stat: whole 10 ms clock ticks.
    var cpuSeconds: Double
    var rssKiB: Int
    var hwmKiB: Int
    /// Of the RSS, what the process wrote itself (heap, stacks), beside the binary's and libraries' pages read from disk.
    var anonKiB: Int
    /// Of the RSS, pages of files mapped in: the binary's and libraries' code and data as read from disk.
    var fileKiB: Int
    var threads: [String: ThreadSample] = [:]
}

/// One thread's schedstat (/proc/<pid>/task/<tid>/schedstat: run time in ns, run-queue wait in ns,
/// timeslices run) and name (comm).
struct ThreadSample {
    var name: String
    var runNs: Int
    /// Times the thread was put on a CPU: a wake-up each.
    var slices: Int
}

func stats(_ pid: Int32) -> ProcStats {
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    let cpu = fields.count > 12 ? ((Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)) / ticks : 0
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    func kib(_ key: String) -> Int {
        status.split(separator: "\n").first { $0.hasPrefix(key) }.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
    }
    return ProcStats(
        cpuSeconds: cpu, rssKiB: kib("VmRSS:"), hwmKiB: kib("VmHWM:"), anonKiB: kib("RssAnon:"), fileKiB: kib("RssFile:") + kib("RssShmem:"),
        threads: threadSamples(pid))
}

/// Each live thread's schedstat and name, by thread id.
func threadSamples(_ pid: Int32) -> [String: ThreadSample] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    var out: [String: ThreadSample] = [:]
    for tid in tasks {
        let s = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/schedstat", encoding: .utf8)) ?? ""
        let f = s.split(separator: " ").map { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 }
        guard f.count >= 3 else { continue }
        let comm = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        out[tid] = ThreadSample(name: comm, runNs: f[0], slices: f[2])
    }
    return out
}

/// CPU time and wake-ups over a window sampled each second: per thread, its last reading less its first
/// (a thread born in the window from zero), so a thread that ends in the window still counts what it ran
/// up to its last sample — a sum over the threads alive at each end went down, even below zero, when one
/// ended. The run time is the scheduler's own in ns: the ticks of /proc/<pid>/stat could only say 0.00,
/// 0.03 or 0.06 CPU-s a minute over a 20 s window.
struct ThreadCounter {
    private var first: [String: ThreadSample] = [:]
    private var last: [String: ThreadSample] = [:]

    init(_ start: [String: ThreadSample]) { first = start; last = start }

    mutating func sample(_ now: [String: ThreadSample]) {
        for (tid, t) in now {
            if first[tid] == nil { first[tid] = ThreadSample(name: t.name, runNs: 0, slices: 0) }
            last[tid] = t
        }
    }

    /// Per thread id: its name, ns run and wake-ups in the window.
    var deltas: [String: ThreadSample] {
        last.reduce(into: [:]) { out, e in
            let f = first[e.key]
            out[e.key] = ThreadSample(name: e.value.name, runNs: e.value.runNs - (f?.runNs ?? 0), slices: e.value.slices - (f?.slices ?? 0))
        }
    }
    var wakeups: Int { deltas.values.reduce(0) { $0 + $1.slices } }
    var cpuSeconds: Double { Double(deltas.values.reduce(0) { $0 + $1.runNs }) / 1e9 }

    /// By thread name (libdispatch's workers, NIO's event loops, `inotify`…): threads, wake-ups, CPU ns;
    /// the busiest first.
    var byName: [(name: String, threads: Int, slices: Int, runNs: Int)] {
        var g: [String: (Int, Int, Int)] = [:]
        for t in deltas.values {
            let name = t.name.replacingOccurrences(of: #"[0-9]+$"#, with: "#", options: .regularExpression)
            let was = g[name] ?? (0, 0, 0)
            g[name] = (was.0 + 1, was.1 + t.slices, was.2 + t.runNs)
        }
        return g.map { ($0.key, $0.value.0, $0.value.1, $0.value.2) }.sorted { $0.slices > $1.slices }
    }
}

struct IdleWindow {
    var before: ProcStats
    var after: ProcStats
    var counter: ThreadCounter
    /// VmRSS KiB sampled each second, with the seconds since start: an idle daemon's RSS moves with the
    /// safety net's rounds (every 30 s: their code faults back in, then is dropped again), so one reading
    /// at the end says less than the run of them.
    var rss: [(seconds: Double, kib: Int)] = []

    /// The RSS an idle daemon keeps: the median of the samples from just after the safety net's first
    /// round (33 s) on, or of every sample in a window too short to reach it; and the highest sample.
    var steadyRSS: (median: Int, highest: Int) {
        let late = rss.filter { $0.seconds >= 33 }.map(\.kib)
        let xs = (late.isEmpty ? rss.map(\.kib) : late).sorted()
        guard !xs.isEmpty else { return (after.rssKiB, after.rssKiB) }
        return (xs[xs.count / 2], xs.last!)
    }
}

/// VmRSS of `pid` in KiB.
func residentKiB(_ pid: Int32) -> Int {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    return status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
}

/// Spawns the process directly (posix_spawn, output to /dev/null) and reaps it with waitpid, so the
/// measurement owns the child's whole life.
func measureIdle(_ exe: String, _ arguments: [String], seconds: Double) async throws -> IdleWindow {
    let pid = try spawnWithCleanSignals([exe] + arguments, stdout: "/dev/null")
    let started = ContinuousClock.now
    try await Task.sleep(for: .seconds(3))  // start-up is not idling
    let before = stats(pid)
    var counter = ThreadCounter(before.threads)
    var rss: [(seconds: Double, kib: Int)] = []
    let end = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < end {
        try await Task.sleep(for: min(.seconds(1), end - ContinuousClock.now))
        counter.sample(threadSamples(pid))
        let t = ContinuousClock.now - started
        rss.append((Double(t.components.seconds) + Double(t.components.attoseconds) / 1e18, residentKiB(pid)))
    }
    let after = stats(pid)
    counter.sample(after.threads)
    kill(pid, SIGTERM)
    var status: Int32 = 0
    for _ in 0..<100 {
        if waitpid(pid, &status, WNOHANG) == pid { return IdleWindow(before: before, after: after, counter: counter, rss: rss) }
        try await Task.sleep(for: .milliseconds(100))
    }
    kill(pid, SIGKILL)
    waitpid(pid, &status, 0)
    FileHandle.standardError.write(Data("\(exe) did not stop within 10 s of SIGTERM\n".utf8))
    return IdleWindow(before: before, after: after, counter: counter, rss: rss)
}

func idleRows(root: URL, binary: String, seconds: Double) async throws -> [[String]] {
    // What a daemon has running on a NAS: the account watch (its accounts answer, from a sandbox), the
    // listener (shared by the 8 pipelines) and the notifier (a webhook sink), beside the 8 watched inboxes.
    let (sandbox, platforms) = try await startSandbox(
        omnipost: binary, in: root.appendingPathComponent("idle/platforms"), arguments: ["--account", "youtube:main=bench:bench:rt-youtube"])
    defer { sandbox.terminate(); sandbox.waitUntilExit() }
    let port = try runMeasured("/usr/bin/env", ["python3", "-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"]).out
    var pipelines: [String] = []
    var inboxes: [String] = []
    for i in 0..<8 {
        let dir = root.appendingPathComponent("idle/p\(i)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("inbox"), withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("pipeline.yaml")
        try Data(
            """
            version: 1
            name: idle\(i)
            watch: {mode: inotify, settle: 2s}
            http: {listen: "127.0.0.1:\(port)"}
            notify: {sinks: [{kind: webhook, url: "\(platforms)/sandbox/capture/idle"}]}
            targets: [youtube:main]
            accounts:
              youtube:main: {client_id: bench, client_secret: bench, refresh_token: rt-youtube, endpoint: "\(platforms)", token_url: "\(platforms)/token"}
            """.utf8
        ).write(to: file)
        pipelines.append(file.path)
        inboxes.append(dir.appendingPathComponent("inbox").path)
    }
    let ours = try await measureIdle(binary, ["run"] + pipelines, seconds: seconds)
    let inotifywait = ["/usr/bin/inotifywait", "/bin/inotifywait"].first { FileManager.default.isExecutableFile(atPath: $0) }
    var base: IdleWindow? = nil
    // bench-check compares with the committed figures, not with inotifywait: it may skip the baseline's window.
    if let iw = inotifywait, ProcessInfo.processInfo.environment["BENCH_IDLE_BASELINE"] != "0" { base = try await measureIdle(iw, ["-m", "-r", "-q", "-e", "close_write,moved_to"] + inboxes, seconds: seconds) }
    let perMinute = 60 / seconds
    let oa = ours.after
    // The scheduler's ns run time of every thread; the clock ticks of /proc/<pid>/stat beside it.
    let ocpu = ours.counter.cpuSeconds * perMinute
    let oticks = (oa.cpuSeconds - ours.before.cpuSeconds) * perMinute
    let bcpu = base.map { $0.counter.cpuSeconds * perMinute }
    let owake = Double(ours.counter.wakeups) * perMinute
    let bwake = base.map { Double($0.counter.wakeups) * perMinute }
    BenchFigures.record("idle.cpu_seconds_per_minute", ocpu, .lower, goal: 0.05)
    BenchFigures.record("idle.wakeups_per_minute", owake, .lower)
    let steady = ours.steadyRSS
    BenchFigures.record("idle.rss_mib", Double(steady.median) / 1024, .lower, goal: 40)
    // Which threads woke, per minute, and the CPU they ran (ms a minute): what to cut next.
    let byThread = ours.counter.byName.map { g in
        "\(g.name)\(g.threads > 1 ? "×\(g.threads)" : "") " + String(format: "%.0f (%.1f ms)", Double(g.slices) * perMinute, Double(g.runNs) / 1e6 * perMinute)
    }
    if ProcessInfo.processInfo.environment["BENCH_IDLE_THREADS"] == "1" {
        for (tid, t) in ours.counter.deltas.sorted(by: { $0.value.slices > $1.value.slices }) where t.slices > 0 {
            let line = "idle thread \(tid) \(t.name): " + String(format: "%.1f wake-ups/min, %.2f ms/min\n", Double(t.slices) * perMinute, Double(t.runNs) / 1e6 * perMinute)
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
    return [
        [
            "idle CPU per minute, 8 inboxes + listener, notifier, account watch (\(Int(seconds)) s measured from 3 s after start; goal ≤ 0.05 s)",
            String(format: "%.4f s (%.3f%%; clock ticks: %.2f s)", ocpu, ocpu / 60 * 100, oticks),
            bcpu.map { String(format: "%.4f s", $0) } ?? "n/a", "baseline: inotifywait -m -r on the same inboxes; ns run time from /proc/<pid>/task/*/schedstat"
        ],
        [
            "idle wake-ups per minute (threads put on a CPU)", String(format: "%.0f", owake), bwake.map { String(format: "%.0f", $0) } ?? "n/a",
            "from /proc/<pid>/task/*/schedstat"
        ],
        ["idle wake-ups per minute by thread (CPU a minute)", byThread.joined(separator: ", "), "", "thread names from /proc/<pid>/task/*/comm"],
        [
            "idle RSS: median of each second's from 33 s on, after the safety net's first round (highest; at the end: anonymous + file pages; start-up's peak) (goal ≤ 40 MiB)",
            String(
                format: "%.1f MiB (highest %.1f; end %.1f: %.1f anon + %.1f file; start-up %.1f)", Double(steady.median) / 1024, Double(steady.highest) / 1024,
                Double(oa.rssKiB) / 1024, Double(oa.anonKiB) / 1024, Double(oa.fileKiB) / 1024, Double(oa.hwmKiB) / 1024),
            base.map { "\($0.after.rssKiB / 1024) MiB (\($0.after.hwmKiB / 1024) MiB)" } ?? "n/a",
            base.map { String(format: "%.1f×", Double(oa.rssKiB) / Double(max($0.after.rssKiB, 1))) } ?? ""
        ]
    ]
}
