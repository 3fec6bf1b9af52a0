import Foundation

/// Starts a program directly (posix_spawn; stderr to /dev/null) with a clean signal mask and default
/// SIGINT and SIGTERM: this process's threads block signals, and a child inherits that, so without it
/// the child would never see the signal that stops it (and makes wrk print its summary).
func spawnWithCleanSignals(_ words: [String], stdout: String) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    var none = sigset_t(), defaults = sigset_t()
    sigemptyset(&none)
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGINT)
    sigaddset(&defaults, SIGTERM)
    posix_spawnattr_setsigmask(&attr, &none)
    posix_spawnattr_setsigdefault(&attr, &defaults)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) }; posix_spawn_file_actions_destroy(&actions); posix_spawnattr_destroy(&attr) }
    var pid: pid_t = 0
    guard posix_spawn(&pid, words[0], &actions, &attr, argv, environ) == 0 else { throw CocoaError(.executableLoad, userInfo: [NSFilePathErrorKey: words[0]]) }
    return pid
}

/// One wrk run against one URL, in a process of its own (the load must not share the daemon's threads).
/// `stop()` sends SIGINT, on which wrk prints its summary, and parses the latency percentiles.
final class LoadRun: @unchecked Sendable {
    struct Result { var url: String; var p50Ms: Double; var p99Ms: Double; var requestsPerSecond: Double; var errors: String? }
    static let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first { FileManager.default.isExecutableFile(atPath: $0) }

    let url: String
    let output: URL
    let pid: pid_t

    init(url: String, connections: Int = 4, seconds: Int = 600) throws {
        guard let wrk = Self.wrk else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "wrk"]) }
        self.url = url
        output = FileManager.default.temporaryDirectory.appendingPathComponent("omnipost-wrk-\(getpid())-\(UUID().uuidString).txt")
        pid = try spawnWithCleanSignals([wrk, "-t1", "-c\(connections)", "-d\(seconds)s", "--latency", "--timeout", "10s", url], stdout: output.path)
    }

    func stop() -> Result {
        kill(pid, SIGINT)
        var status: Int32 = 0, reaped = false
        for _ in 0..<100 where !reaped {
            reaped = waitpid(pid, &status, WNOHANG) == pid
            if !reaped { usleep(100_000) }
        }
        if !reaped { kill(pid, SIGKILL); waitpid(pid, &status, 0) }
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: output)
        return Self.parse(text, url: url)
    }

    /// `     50%  635.91us` → 0.636 ms; `Requests/sec:   1234.56`.
    static func parse(_ text: String, url: String) -> Result {
        func ms(_ token: Substring) -> Double {
            let units: [(String, Double)] = [("us", 0.001), ("ms", 1), ("s", 1000), ("m", 60_000)]
            for (u, f) in units where token.hasSuffix(u) { return (Double(token.dropLast(u.count)) ?? .nan) * f }
            return .nan
        }
        var p50 = Double.nan, p99 = Double.nan, rps = 0.0
        var errors: String?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count == 2, parts[0] == "50%" { p50 = ms(parts[1]) }
            if parts.count == 2, parts[0] == "99%" { p99 = ms(parts[1]) }
            if parts.first == "Requests/sec:", parts.count == 2 { rps = Double(parts[1]) ?? 0 }
            if line.contains("Non-2xx") || line.contains("Socket errors") { errors = line.trimmingCharacters(in: .whitespaces) }
        }
        return Result(url: url, p50Ms: p50, p99Ms: p99, requestsPerSecond: rps, errors: errors)
    }
}

/// The dashboard's overview and the API's deliveries list under wrk while a burst of drops is picked up.
func listenerRows(drops: Int) async throws -> [[String]] {
    guard LoadRun.wrk != nil else { return [["listener under load", "n/a", "", "wrk is not installed (scripts/bench.sh installs it)"]] }
    let paths = ["/", "/api/v1/deliveries?limit=100"]
    // The same pages, idle: 3 s of wrk against a pipeline with nothing arriving.
    let idle = try await pickup(mode: "inotify", settleMs: 500, pollMs: 2000, drops: 0, tag: "-idle") { port in
        let runs = try paths.map { try LoadRun(url: "http://127.0.0.1:\(port)\($0)") }
        try await Task.sleep(for: .seconds(3))
        return runs
    }
    let quiet = try await pickup(mode: "inotify", settleMs: 500, pollMs: 2000, drops: drops, tag: "-listener") { _ in [] }
    let loaded = try await pickup(mode: "inotify", settleMs: 500, pollMs: 2000, drops: drops, tag: "-loaded") { port in
        try paths.map { try LoadRun(url: "http://127.0.0.1:\(port)\($0)") }
    }
    var rows: [[String]] = []
    for (i, path) in paths.enumerated() {
        let under = loaded.load[i], base = idle.load[i]
        rows.append([
            "\(path == "/" ? "dashboard /" : "API deliveries") p50 / p99, during \(drops) drops",
            String(format: "%.1f / %.1f ms", under.p50Ms, under.p99Ms),
            String(format: "%.1f / %.1f ms idle", base.p50Ms, base.p99Ms),
            String(format: "%.0f req/s under load (4 connections)", under.requestsPerSecond) + (under.errors.map { "; \($0)" } ?? "")
        ])
    }
    func p(_ xs: [Double], _ q: Double) -> Double { xs[Int(Double(xs.count - 1) * q)] }
    rows.append([
        "pickup → validated p50 / p95, listener under load", String(format: "%.0f / %.0f ms", p(loaded.ms, 0.5), p(loaded.ms, 0.95)),
        String(format: "%.0f / %.0f ms, no load", p(quiet.ms, 0.5), p(quiet.ms, 0.95)),
        String(format: "%+.0f ms at the median (\(drops) drops each)", p(loaded.ms, 0.5) - p(quiet.ms, 0.5))
    ])
    return rows
}
