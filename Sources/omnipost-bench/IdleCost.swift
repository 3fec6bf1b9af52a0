import Foundation
import OmniPostCore

// 3. Idle: CPU time, wake-ups and RSS of the daemon watching 8 idle inboxes, against inotifywait on the
// same folders (issue 30's goals: ≤ 0.05 CPU-s a minute, ≤ 40 MiB).

struct ProcStats {
    var cpuSeconds: Double
    var rssKiB: Int
    var hwmKiB: Int
    /// Of the RSS, what the process wrote itself (heap, stacks), beside the binary's and libraries' pages read from disk.
    var anonKiB: Int
    /// Of the RSS, pages of files mapped in: the binary's and libraries' code and data as read from disk.
    var fileKiB: Int
    /// Times any of the process's threads was put on a CPU (the second field of each thread's
    /// /proc/<pid>/task/<tid>/schedstat is run-queue wait; the third, the timeslices run): a wake-up each.
    var wakeups: Int
    var runsByThread: [String: Int] = [:]
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
    let runs = timeslices(pid)
    return ProcStats(cpuSeconds: cpu, rssKiB: kib("VmRSS:"), hwmKiB: kib("VmHWM:"), anonKiB: kib("RssAnon:"), fileKiB: kib("RssFile:") + kib("RssShmem:"), wakeups: runs.values.reduce(0, +), runsByThread: runs)
}

/// Each live thread's timeslices run so far (the third field of its schedstat).
func timeslices(_ pid: Int32) -> [String: Int] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    var out: [String: Int] = [:]
    for tid in tasks {
        let s = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/schedstat", encoding: .utf8)) ?? ""
        out[tid] = s.split(separator: " ").dropFirst(2).first.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
    }
    return out
}

/// Wake-ups over a window sampled each second: per thread, its last reading less its first (a thread
/// born in the window from zero), so a thread that ends in the window still counts what it ran — a sum
/// over the threads alive at each end went down, even below zero, when one ended.
struct WakeupCounter {
    private var first: [String: Int] = [:]
    private var last: [String: Int] = [:]

    init(_ start: [String: Int]) { first = start; last = start }

    mutating func sample(_ now: [String: Int]) {
        for (tid, runs) in now {
            if first[tid] == nil { first[tid] = 0 }
            last[tid] = runs
        }
    }

    var total: Int { last.reduce(0) { $0 + $1.value - (first[$1.key] ?? 0) } }
}

/// Spawns the process directly (posix_spawn, output to /dev/null) and reaps it with waitpid, so the
/// measurement owns the child's whole life.
func measureIdle(_ exe: String, _ arguments: [String], seconds: Double) async throws -> (ProcStats, ProcStats) {
    let pid = try spawnWithCleanSignals([exe] + arguments, stdout: "/dev/null")
    try await Task.sleep(for: .seconds(3))  // start-up is not idling
    let before = stats(pid)
    var counter = WakeupCounter(before.runsByThread)
    let end = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < end {
        try await Task.sleep(for: min(.seconds(1), end - ContinuousClock.now))
        counter.sample(timeslices(pid))
    }
    var after = stats(pid)
    counter.sample(after.runsByThread)
    // The window's wake-ups, as `after.wakeups - before.wakeups` is read below.
    after.wakeups = before.wakeups + counter.total
    kill(pid, SIGTERM)
    var status: Int32 = 0
    for _ in 0..<100 {
        if waitpid(pid, &status, WNOHANG) == pid { return (before, after) }
        try await Task.sleep(for: .milliseconds(100))
    }
    kill(pid, SIGKILL)
    waitpid(pid, &status, 0)
    FileHandle.standardError.write(Data("\(exe) did not stop within 10 s of SIGTERM\n".utf8))
    return (before, after)
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
    let (ob, oa) = try await measureIdle(binary, ["run"] + pipelines, seconds: seconds)
    let inotifywait = ["/usr/bin/inotifywait", "/bin/inotifywait"].first { FileManager.default.isExecutableFile(atPath: $0) }
    var base: (ProcStats, ProcStats)? = nil
    if let iw = inotifywait { base = try await measureIdle(iw, ["-m", "-r", "-q", "-e", "close_write,moved_to"] + inboxes, seconds: seconds) }
    let perMinute = 60 / seconds
    let ocpu = (oa.cpuSeconds - ob.cpuSeconds) * perMinute
    let bcpu = base.map { ($0.1.cpuSeconds - $0.0.cpuSeconds) * perMinute }
    let owake = Double(oa.wakeups - ob.wakeups) * perMinute
    let bwake = base.map { Double($0.1.wakeups - $0.0.wakeups) * perMinute }
    BenchFigures.record("idle.cpu_seconds_per_minute", ocpu, .lower, goal: 0.05)
    BenchFigures.record("idle.wakeups_per_minute", owake, .lower)
    BenchFigures.record("idle.rss_mib", Double(oa.rssKiB) / 1024, .lower, goal: 40)
    return [
        [
            "idle CPU per minute, 8 inboxes + listener, notifier, account watch (\(Int(seconds)) s measured; goal ≤ 0.05 s)",
            String(format: "%.3f s (%.2f%%)", ocpu, ocpu / 60 * 100),
            bcpu.map { String(format: "%.3f s", $0) } ?? "n/a", "baseline: inotifywait -m -r on the same inboxes"
        ],
        [
            "idle wake-ups per minute (threads put on a CPU)", String(format: "%.0f", owake), bwake.map { String(format: "%.0f", $0) } ?? "n/a",
            "from /proc/<pid>/task/*/schedstat"
        ],
        [
            "idle RSS (peak; anonymous + file pages) (goal ≤ 40 MiB)",
            String(format: "%.1f MiB (%.1f; %.1f anon + %.1f file)", Double(oa.rssKiB) / 1024, Double(oa.hwmKiB) / 1024, Double(oa.anonKiB) / 1024, Double(oa.fileKiB) / 1024),
            base.map { "\($0.1.rssKiB / 1024) MiB (\($0.1.hwmKiB / 1024) MiB)" } ?? "n/a",
            base.map { String(format: "%.1f×", Double(oa.rssKiB) / Double(max($0.1.rssKiB, 1))) } ?? ""
        ]
    ]
}
