import Foundation
import Logging
import OmniPostCore
import OmniPostEmbedded
import OmniPostLedger
import OmniPostPipeline

// Issue 30's cheap drops (BENCH_ONLY=drops measures only these): the CPU of one rejected drop per kind of
// bad sidecar (goal ≤ 5 ms), a published pass-through drop's own bookkeeping (goal ≤ 20 ms, ffprobe
// excluded), and a flood of lone sidecars answered while a good drop beside them is published.
// BENCH_SIDECAR_CPU sidecars per kind (500), BENCH_PASS_DROPS good drops (20), BENCH_SIDECARS in the
// flood (10000) shorten it; BENCH_SIDECAR_KINDS=junk,bad_yaml picks kinds (every kind: a profile of one).

/// The kinds of bad sidecar a person drops, and the reason each is answered with.
enum BadSidecar: String, CaseIterable {
    /// Bytes that are no text at all (a file saved with the wrong extension).
    case junk
    /// A sidecar that parses, whose clip never comes: `missing_clip` once the grace runs out.
    case missingClip = "missing_clip"
    /// YAML broken at a line and column: the syntax error, `file:line:col`.
    case badYAML = "bad_yaml"

    func bytes(_ i: Int) -> Data {
        switch self {
        case .junk:
            // Invalid UTF-8 throughout, never a mapping.
            var g = SystemRandomNumberGenerator()
            return Data((0..<300).map { _ in UInt8.random(in: 0x80...0xff, using: &g) })
        case .missingClip: return Data("title: never coming \(i)\ntags: [bench]\n".utf8)
        case .badYAML: return Data("title: broken \(i)\ndescription: \"never closed\ntags: [a, b\n".utf8)
        }
    }
}

func dropCostRows(root: URL, perKind: Int, passDrops: Int, flood: Int) async throws -> [[String]] {
    var rows: [[String]] = []
    let settleMs = 200, graceS = 1
    // A cost per drop, not per run: each run's CPU less that of the same run with no drops (the pipeline
    // started, found quiet and stopped: about as much as a few dozen drops, which a short count such as
    // bench-check's spread over each drop), after a few drops of each kind in a run of their own that is not
    // counted (what a process does once: the first YAML parse, the first probe, the profile catalog).
    // BENCH_SIDECAR_KINDS: only these kinds (a profile of one kind at a time); every kind when unset.
    let picked = ProcessInfo.processInfo.environment["BENCH_SIDECAR_KINDS"].map { Set($0.split(separator: ",").map(String.init)) }
    let kinds = BadSidecar.allCases.filter { picked?.contains($0.rawValue) ?? true }
    if perKind > 0 {
        for kind in kinds { _ = try await rejectRun(root: root, kind: kind, count: 3, settleMs: settleMs, graceS: graceS, tag: "warm-up") }
    }
    let empty = perKind > 0 ? try await rejectRun(root: root, kind: .junk, count: 0, settleMs: settleMs, graceS: graceS, tag: "empty").cpu : CPU.zero
    for kind in kinds where perKind > 0 {
        let run = try await rejectRun(root: root, kind: kind, count: perKind, settleMs: settleMs, graceS: graceS)
        let perDrop = (run.cpu.total - empty.total) / Double(max(run.answered, 1)) * 1000
        BenchFigures.record("drops.reject.\(kind.rawValue).cpu_ms_per_drop", perDrop, .lower, goal: 5)
        rows.append([
            "rejected lone sidecar, \(kind.rawValue) (\(run.answered)/\(perKind) answered: \(run.codes))", String(format: "%.2f ms CPU", perDrop),
            String(format: "%.2f ms floor", run.floorMs),
            String(
                format: "goal ≤ 5 ms: %@ (self %.2f s + children %.2f s in all, less %.3f s for a run with no drops)", perDrop <= 5 ? "held" : "MISSED",
                run.cpu.selfSeconds, run.cpu.childSeconds, empty.total)
        ])
    }
    if passDrops > 0 {
        _ = try await passThroughRun(root: root, count: 2, tag: "warm-up")
        let none = try await passThroughRun(root: root, count: 0, tag: "empty").cpu
        let pass = try await passThroughRun(root: root, count: passDrops)
        let bookkeeping = (pass.cpu.selfSeconds - none.selfSeconds) / Double(max(pass.published, 1)) * 1000
        BenchFigures.record("drops.pass.bookkeeping_ms_per_drop", bookkeeping, .lower, goal: 20)
        rows.append([
            "published pass-through drop's bookkeeping (\(pass.published)/\(passDrops), tiny clip → folder)", String(format: "%.2f ms CPU", bookkeeping),
            String(format: "%.2f ms ffprobe (children)", pass.cpu.childSeconds / Double(max(pass.published, 1)) * 1000),
            String(
                format: "goal ≤ 20 ms: %@ (this process, hashing and copy of 30 KB included; %.2f s in all less %.3f s for a run with no drops)",
                bookkeeping <= 20 ? "held" : "MISSED", pass.cpu.selfSeconds, none.selfSeconds)
        ])
    }
    guard flood > 0 else { return rows }
    let f = try await floodRun(root: root, count: flood, settleMs: settleMs, graceS: graceS)
    let goodGoal = Double(settleMs) / 1000 + Double(graceS) + 2
    BenchFigures.record("drops.flood.answered_s_per_10k", f.answeredS / Double(max(flood, 1)) * 10_000, .lower, goal: 120)
    BenchFigures.record("drops.flood.good_published_s", f.goodS, .lower, goal: Double(settleMs) / 1000 + Double(graceS) + 2)
    rows.append([
        "\(flood) lone sidecars at once: all answered (failure report each)", String(format: "%.1f s (%d/%d)", f.answeredS, f.reports, flood),
        "goal ≤ 120 s", f.reports == flood && f.answeredS <= 120 ? "held" : "MISSED"
    ])
    rows.append([
        "…a good drop beside them published after", String(format: "%.2f s", f.goodS), String(format: "goal ≤ %.1f s (settle + grace + 2 s)", goodGoal),
        f.goodS <= goodGoal ? "held" : "MISSED"
    ])
    return rows
}

/// A pipeline config for these runs: inotify, a short settle and grace, folder targets (the sandbox's own folder).
func dropConfig(_ dir: URL, root: URL, settleMs: Int, graceS: Int) throws -> PipelineConfig {
    try PipelineConfig.parse(
        text: """
            version: 1
            name: drops
            root: \(dir.path)
            watch: {mode: inotify, settle: \(settleMs)ms}
            sidecar: {grace: \(graceS)s, missing: defaults}
            sandbox: embedded
            targets: [folder:bench]
            """, file: "bench.yaml", baseDirectory: root)
}

func quietLogger() -> Logger {
    var logger = Logger(label: "bench")
    logger.logLevel = .critical
    return logger
}

func failureReports(_ config: PipelineConfig) -> Int {
    ((try? FileManager.default.contentsOfDirectory(atPath: config.paths.outboxFailed.path)) ?? []).filter { $0.hasSuffix(".failure.json") }.count
}

/// `count` lone sidecars of one kind, run to quiet: CPU, how many were answered (failed with a report),
/// their reason codes, and the floor per sidecar. `tag` names a run's own folder (a warm-up, an empty run).
func rejectRun(root: URL, kind: BadSidecar, count: Int, settleMs: Int, graceS: Int, tag: String = "") async throws
    -> (cpu: CPU, answered: Int, codes: String, floorMs: Double)
{
    let dir = root.appendingPathComponent("drops-\(kind.rawValue)\(tag.isEmpty ? "" : "-" + tag)")
    let config = try dropConfig(dir, root: root, settleMs: settleMs, graceS: graceS)
    try config.paths.createAll()
    let staging = dir.appendingPathComponent("staging"), floorDir = dir.appendingPathComponent("floor")
    for d in [staging, floorDir, config.paths.inbox.appendingPathComponent("bad")] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
    for i in 0..<count { try kind.bytes(i).write(to: staging.appendingPathComponent("s\(i).yaml")) }
    // BENCH_PROFILE_WINDOW=1 also counts the ledger's statements (a trace on each connection: not in the figures' runs).
    let statements = ProfileWindow.on ? SQLStatementCount.watch(path: config.paths.ledger.path) : nil
    defer { SQLStatementCount.unwatch(path: config.paths.ledger.path) }
    let pipeline = try await Pipeline.open(config: config, logger: quietLogger(), embedding: EmbeddedSandbox())
    statements?.reset()
    let before = CPU.now()
    for i in 0..<count { _ = rename(staging.appendingPathComponent("s\(i).yaml").path, config.paths.inbox.appendingPathComponent("bad/s\(i).yaml").path) }
    let window = ProfileWindow()
    try await pipeline.run(once: true)
    let after = CPU.now()
    window.print("\(kind.rawValue)\(tag.isEmpty ? "" : "-" + tag) \(count)", statements: statements, per: count)
    let drops = try pipeline.context.ledger.drops()
    await pipeline.close()
    let failed = drops.filter { $0.state == .failed }
    let codes = Dictionary(grouping: failed, by: { $0.reasonCode ?? "none" }).map { "\($0.key) ×\($0.value.count)" }.sorted().joined(separator: ", ")
    let answered = min(failed.count, failureReports(config))

    // The floor: the same bytes read, parsed, answered in a small JSON file and moved, in this process.
    for i in 0..<count { try kind.bytes(i).write(to: floorDir.appendingPathComponent("s\(i).yaml")) }
    let done = floorDir.appendingPathComponent("done")
    try FileManager.default.createDirectory(at: done, withIntermediateDirectories: true)
    let floorBefore = CPU.now()
    for i in 0..<count {
        let path = floorDir.appendingPathComponent("s\(i).yaml").path
        var reason = "missing_clip"
        do { _ = try Manifest.load(path: path, displayName: "s\(i).yaml") } catch let e as OmniError { reason = e.code.rawValue }
        let report = try JSONSerialization.data(withJSONObject: ["drop": "s\(i)", "reason": reason, "file": path])
        try report.write(to: done.appendingPathComponent("s\(i).failure.json"), options: .atomic)
        _ = rename(path, done.appendingPathComponent("s\(i).yaml").path)
    }
    let floorMs = (CPU.now().total - floorBefore.total) / Double(max(count, 1)) * 1000
    return (CPU(selfSeconds: after.selfSeconds - before.selfSeconds, childSeconds: after.childSeconds - before.childSeconds), answered, codes, floorMs)
}

/// A 1 s 320×240 clip, with `i`'s own bytes appended (a valid MP4 `free` box) so no two are duplicates.
func tinyClip(_ source: Data, _ i: Int) -> Data {
    var bytes = source
    let payload = Array("omnipost-bench-drop-\(i)".utf8)
    let size = UInt32(8 + payload.count)
    bytes.append(contentsOf: [UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff)] + Array("free".utf8) + payload)
    return bytes
}

func makeTinyClip(at url: URL) throws -> Data {
    _ = try runTool([
        "ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=1",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart", url.path
    ])
    return try Data(contentsOf: url)
}

/// `count` good pairs (tiny clip + sidecar) published to a folder target, run to quiet.
func passThroughRun(root: URL, count: Int, tag: String = "") async throws -> (cpu: CPU, published: Int) {
    let dir = root.appendingPathComponent("drops-pass\(tag.isEmpty ? "" : "-" + tag)")
    let config = try dropConfig(dir, root: root, settleMs: 200, graceS: 1)
    try config.paths.createAll()
    let staging = dir.appendingPathComponent("staging")
    try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
    let source = try makeTinyClip(at: staging.appendingPathComponent("source.mp4"))
    for i in 0..<count {
        try tinyClip(source, i).write(to: staging.appendingPathComponent("p\(i).mp4"))
        try Data("title: pass \(i)\n".utf8).write(to: staging.appendingPathComponent("p\(i).yaml"))
    }
    // BENCH_PROFILE_WINDOW=1: the ledger's statements too, as for the rejected runs (`BEGIN IMMEDIATE`: write transactions).
    let statements = ProfileWindow.on ? SQLStatementCount.watch(path: config.paths.ledger.path) : nil
    defer { SQLStatementCount.unwatch(path: config.paths.ledger.path) }
    let pipeline = try await Pipeline.open(config: config, logger: quietLogger(), embedding: EmbeddedSandbox())
    statements?.reset()
    let before = CPU.now()
    for i in 0..<count {
        for ext in ["yaml", "mp4"] { _ = rename(staging.appendingPathComponent("p\(i).\(ext)").path, config.paths.inbox.appendingPathComponent("p\(i).\(ext)").path) }
    }
    let window = ProfileWindow()
    try await pipeline.run(once: true)
    let after = CPU.now()
    window.print("pass\(tag.isEmpty ? "" : "-" + tag) \(count)", statements: statements, per: max(count, 1))
    let published = try pipeline.context.ledger.deliveries(in: [.published], limit: count + 10).count
    await pipeline.close()
    return (CPU(selfSeconds: after.selfSeconds - before.selfSeconds, childSeconds: after.childSeconds - before.childSeconds), published)
}

/// `count` lone sidecars of every kind moved into one folder at once, then a good pair into another, on
/// a running pipeline: seconds until every sidecar has its failure report, and from the good pair's
/// arrival to its delivery published.
func floodRun(root: URL, count: Int, settleMs: Int, graceS: Int) async throws -> (answeredS: Double, reports: Int, goodS: Double) {
    let dir = root.appendingPathComponent("drops-flood")
    let config = try dropConfig(dir, root: root, settleMs: settleMs, graceS: graceS)
    try config.paths.createAll()
    let staging = dir.appendingPathComponent("staging")
    for d in [staging, config.paths.inbox.appendingPathComponent("flood"), config.paths.inbox.appendingPathComponent("good")] {
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    }
    let kinds = BadSidecar.allCases
    for i in 0..<count { try kinds[i % kinds.count].bytes(i).write(to: staging.appendingPathComponent("f\(i).yaml")) }
    let source = try makeTinyClip(at: staging.appendingPathComponent("source.mp4"))
    try tinyClip(source, 1_000_000).write(to: staging.appendingPathComponent("good.mp4"))
    try Data("title: the good one\n".utf8).write(to: staging.appendingPathComponent("good.yaml"))
    let pipeline = try await Pipeline.open(config: config, logger: quietLogger(), embedding: EmbeddedSandbox())
    let runner = Task { try await pipeline.run(once: false) }
    try await Task.sleep(for: .milliseconds(300))
    let start = ContinuousClock.now
    for i in 0..<count { _ = rename(staging.appendingPathComponent("f\(i).yaml").path, config.paths.inbox.appendingPathComponent("flood/f\(i).yaml").path) }
    for ext in ["yaml", "mp4"] { _ = rename(staging.appendingPathComponent("good.\(ext)").path, config.paths.inbox.appendingPathComponent("good/good.\(ext)").path) }
    let goodStart = ContinuousClock.now
    var goodS = Double.nan, answeredS = Double.nan, reports = 0
    let ledger = pipeline.context.ledger
    while ContinuousClock.now - start < .seconds(600) {
        if goodS.isNaN, try !ledger.deliveries(in: [.published], limit: 1).isEmpty { goodS = (ContinuousClock.now - goodStart).seconds }
        reports = failureReports(config)
        if reports >= count, answeredS.isNaN { answeredS = (ContinuousClock.now - start).seconds }
        if !goodS.isNaN, !answeredS.isNaN { break }
        try await Task.sleep(for: .milliseconds(100))
    }
    runner.cancel()
    _ = try? await runner.value
    await pipeline.close()
    return (answeredS, reports, goodS)
}

/// BENCH_PROFILE_WINDOW=1: each counted run's start and end on stderr, in CLOCK_MONOTONIC (`perf record -k
/// CLOCK_MONOTONIC`, then `perf script --time a,b`) and wall-clock seconds (`strace -ttt`), so a profile or
/// a syscall count can be cut to the run itself, without the bench's own staging and floor around it.
struct ProfileWindow {
    let mono = ProfileWindow.clock(CLOCK_MONOTONIC), real = ProfileWindow.clock(CLOCK_REALTIME)

    static func clock(_ id: clockid_t) -> Double {
        var t = timespec()
        clock_gettime(id, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    static var on: Bool { ProcessInfo.processInfo.environment["BENCH_PROFILE_WINDOW"] == "1" }

    /// The window's line, and the ledger's statements in it per drop (`per`), by kind and the most repeated.
    func print(_ name: String, statements: SQLStatementCount? = nil, per: Int = 1) {
        guard Self.on else { return }
        var out = String(format: "profile-window %@ mono %.6f %.6f real %.6f %.6f\n", name, mono, Self.clock(CLOCK_MONOTONIC), real, Self.clock(CLOCK_REALTIME))
        if let statements, per > 0 {
            let n = Double(per)
            out += String(format: "  statements a drop %.1f:", Double(statements.total) / n)
            for (k, v) in statements.byKind.sorted(by: { $0.value > $1.value }) { out += String(format: " %@ %.2f", k, Double(v) / n) }
            out += "\n"
            for (t, v) in statements.byText.sorted(by: { $0.value > $1.value }).prefix(40) {
                out += String(format: "  %6.2f  %@\n", Double(v) / n, String(t.replacingOccurrences(of: "\n", with: " ").prefix(160)))
            }
        }
        FileHandle.standardError.write(Data(out.utf8))
    }
}
