import Foundation
import Logging
import OmniPostCore
import OmniPostEmbedded
import OmniPostLedger
import OmniPostMedia
import OmniPostPipeline

// `make bench`: measures OmniPost against a baseline in the same run and prints one table.
// Timing and memory targets live here, never in unit tests.

let args = CommandLine.arguments
// The upload measurement runs each delivery in a child process of this same binary.
if args.count > 2, args[1] == "upload" {
    // BENCH_TRACE=1: the engine's line per verb (each part's send, in ms) on stderr, for a run by hand.
    if ProcessInfo.processInfo.environment["BENCH_TRACE"] != nil {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = .debug
            return h
        }
    }
    try await uploadChild(Array(args.dropFirst(2)))
    exit(0)
}
// …and curl's baseline for it, on a session of its own (CurlBaseline.swift).
if args.count > 2, args[1] == "curl" {
    try await curlChild(Array(args.dropFirst(2)))
    exit(0)
}
let binary = args.count > 1 ? args[1] : ".build/release/omnipost"
let idleSeconds = Double(ProcessInfo.processInfo.environment["BENCH_IDLE_SECONDS"] ?? "60") ?? 60
let drops = Int(ProcessInfo.processInfo.environment["BENCH_DROPS"] ?? "100") ?? 100
let root = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("bench-state")
try? FileManager.default.removeItem(at: root)
try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)

var rows: [[String]] = [["measure", "omnipost", "baseline", "ratio / note"]]

func printTable(_ rows: [[String]]) {
    let widths = (0..<4).map { c in rows.map { $0[c].count }.max() ?? 0 }
    for (i, r) in rows.enumerated() {
        print((0..<4).map { r[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        if i == 0 { print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
    }
}

// `stats` and `export` over a ledger of BENCH_POSTS posts with BENCH_READINGS metric rows (issue 25;
// BENCH_ONLY=stats measures only this).
let statsRows = {
    try statsExportRows(
        root: root, binary: binary, posts: Int(ProcessInfo.processInfo.environment["BENCH_POSTS"] ?? "100000") ?? 100_000,
        readings: Int(ProcessInfo.processInfo.environment["BENCH_READINGS"] ?? "1000000") ?? 1_000_000)
}
if ProcessInfo.processInfo.environment["BENCH_ONLY"] == "stats" {
    rows += try statsRows()
    printTable(rows)
    exit(0)
}

// Claims from the shared PostgreSQL ledger by 1–3 claimers beside SQLite, and a lapsed lease's takeover
// (issue 27; BENCH_CLAIMS queued deliveries; BENCH_ONLY=claims measures only this).
let claimRows = { try sharedLedgerClaimRows(root: root, deliveries: Int(ProcessInfo.processInfo.environment["BENCH_CLAIMS"] ?? "10000") ?? 10_000) }
if ProcessInfo.processInfo.environment["BENCH_ONLY"] == "claims" {
    rows += try claimRows()
    rows += try await sharedDecisionLockRows(rounds: 200)
    printTable(rows)
    exit(0)
}

// Single rows, for a quick look or `make bench-check`: BENCH_ONLY=uploads (BENCH_PLATFORMS=youtube,x picks
// adapters) or BENCH_ONLY=idle.
if ProcessInfo.processInfo.environment["BENCH_ONLY"] == "uploads" {
    rows += try await uploadRows(bench: benchPath(), omnipost: binary, root: root)
    printTable(rows)
    exit(0)
}
if ProcessInfo.processInfo.environment["BENCH_ONLY"] == "digest" {
    rows += try digestRows(root: root)
    printTable(rows)
    exit(0)
}
if ProcessInfo.processInfo.environment["BENCH_ONLY"] == "idle" {
    rows += try await idleRows(root: root, binary: binary, seconds: idleSeconds)
    printTable(rows)
    exit(0)
}

// The convert stage per plan kind against bare ffmpeg, alone (BENCH_ONLY=convert; PlanKinds.swift).
if ProcessInfo.processInfo.environment["BENCH_ONLY"] == "convert" {
    let media = root.appendingPathComponent("media")
    try FileManager.default.createDirectory(at: media, withIntermediateDirectories: true)
    rows += try await planKindRows(media: media, profiles: try ProfileCatalog.bundled(), ssim: false)
    printTable(rows)
    exit(0)
}

// 0a. Cheap drops (issue 30; DropCost.swift): CPU per rejected lone sidecar per kind, a pass-through drop's
// bookkeeping, and a flood of sidecars answered beside a good drop (BENCH_ONLY=drops measures only this).
let env = ProcessInfo.processInfo.environment
if env["BENCH_ONLY"] == nil || env["BENCH_ONLY"] == "drops" {
    rows += try await dropCostRows(
        root: root, perKind: Int(env["BENCH_SIDECAR_CPU"] ?? "500") ?? 500, passDrops: Int(env["BENCH_PASS_DROPS"] ?? "20") ?? 20,
        flood: Int(env["BENCH_SIDECARS"] ?? "10000") ?? 10_000)
}
if env["BENCH_ONLY"] == "drops" {
    printTable(rows)
    exit(0)
}

// 0. What a rejection costs, and whether a flood of them holds another folder's drop (BENCH_JUNK files and
// list entries; BENCH_ONLY=rejections measures only this).
let junk = Int(ProcessInfo.processInfo.environment["BENCH_JUNK"] ?? "500") ?? 500
rows += try await rejectionRows(root: root, junk: junk)
if ProcessInfo.processInfo.environment["BENCH_ONLY"] == "rejections" {
    printTable(rows)
    exit(0)
}

// 1. Pickup latency: atomic move of a complete pair into the inbox → drop validated; with inotify, and
// polled (where a file must also be seen unchanged by 3 scans in a row: the price of not seeing closes).
/// With `load`, the pipeline has its HTTP listener, and `load` is started (given its port) once the
/// pipeline runs and stopped when the last drop is validated; what it printed is returned.
func pickup(
    mode: String, settleMs: Int, pollMs: Int, drops: Int, tag: String = "",
    load: ((Int) async throws -> [LoadRun])? = nil
) async throws -> (ms: [Double], load: [LoadRun.Result]) {
    let config = try PipelineConfig.parse(
        text: """
            version: 1
            name: bench
            root: \(root.appendingPathComponent("latency-\(mode)\(tag)").path)
            watch: {mode: \(mode), settle: \(settleMs)ms, poll_interval: \(pollMs)ms}
            sidecar: {grace: 30s}
            sandbox: embedded
            \(load != nil ? "http: {listen: \"127.0.0.1:0\"}" : "")
            targets: [youtube:main]
            """, file: "bench.yaml", baseDirectory: root)
    var logger = Logger(label: "bench")
    logger.logLevel = .critical
    let pipeline = try await Pipeline.open(config: config, logger: logger, embedding: EmbeddedSandbox())
    let runner = Task { try await pipeline.run(once: false) }
    let loads = try await load?(pipeline.listener?.port ?? 0) ?? []
    let staging = root.appendingPathComponent("staging-\(mode)\(tag)")
    try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
    let clip = staging.appendingPathComponent("src.mp4")
    let gen = Process()
    gen.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    gen.arguments = [
        "ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=1",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", clip.path
    ]
    try gen.run()
    gen.waitUntilExit()
    let original = try Data(contentsOf: clip)
    var latencies: [Double] = []
    for i in 0..<drops {
        // Distinct content per drop (so none is a duplicate): a valid MP4 `free` box appended at the end.
        var bytes = original
        let payload = Array("omnipost-bench-\(i)".utf8)
        let size = UInt32(8 + payload.count)
        bytes.append(contentsOf: [UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff)] + Array("free".utf8) + payload)
        let c = staging.appendingPathComponent("b\(i).mp4"), s = staging.appendingPathComponent("b\(i).yaml")
        try bytes.write(to: c)
        try Data("title: bench \(i)\n".utf8).write(to: s)
        let start = ContinuousClock.now
        _ = rename(s.path, config.paths.inbox.appendingPathComponent("b\(i).yaml").path)
        _ = rename(c.path, config.paths.inbox.appendingPathComponent("b\(i).mp4").path)
        while true {
            if try pipeline.context.ledger.validationDecided(stem: "b\(i)") { break }
            try await Task.sleep(for: .milliseconds(2))
        }
        latencies.append((ContinuousClock.now - start).seconds * 1000)
    }
    let results = loads.map { $0.stop() }
    runner.cancel()
    _ = try? await runner.value
    await pipeline.close()
    return (latencies.sorted(), results)
}
do {
    let settleMs = 500
    let inotify = try await pickup(mode: "inotify", settleMs: settleMs, pollMs: 2000, drops: drops).ms
    let median = inotify[inotify.count / 2], p95 = inotify[Int(Double(inotify.count - 1) * 0.95)]
    rows.append([
        "pickup → validated, median (\(drops) drops)", String(format: "%.0f ms", median), "\(settleMs) ms settle", String(format: "+%.0f ms over settle", median - Double(settleMs))
    ])
    rows.append(["pickup → validated, p95", String(format: "%.0f ms", p95), "\(settleMs) ms settle", String(format: "+%.0f ms over settle", p95 - Double(settleMs))])
    // Polled every 500 ms with the same settle: three unchanged scans are the floor.
    let polled = try await pickup(mode: "poll", settleMs: settleMs, pollMs: 500, drops: max(3, drops / 10)).ms
    let pm = polled[polled.count / 2]
    rows.append([
        "pickup → validated, polled, median (\(polled.count) drops)", String(format: "%.0f ms", pm), String(format: "%.0f ms inotify", median),
        String(format: "%.1f× (3 unchanged scans at 500 ms + settle)", pm / max(median, 1))
    ])
}

// 1b. The listener under load: wrk hammers the dashboard's overview and the API while a burst of drops
// is picked up. The pages' latency is set beside the same pages on an idle pipeline; the pickup latency
// beside the same burst with the listener open and nobody asking.
rows += try await listenerRows(drops: min(drops, 40))

// 2. Conversion: the convert stage against a bare ffmpeg with the same arguments, and a compliant clip's
// pass-through (probe + plan, nothing copied) against `ffmpeg -c copy`. Median of 3 runs each.
func runTool(_ args: [String]) throws -> Double {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    let start = ContinuousClock.now
    try p.run()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw OmniError(.internalError, "\(args.prefix(3)) failed") }
    return (ContinuousClock.now - start).seconds
}
/// This tool's own path: the upload rows run it again as their child.
func benchPath() -> String {
    CommandLine.arguments[0].hasPrefix("/") ? CommandLine.arguments[0] : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0]
}
func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
do {
    let media = root.appendingPathComponent("media")
    try FileManager.default.createDirectory(at: media, withIntermediateDirectories: true)
    let wide = media.appendingPathComponent("wide.mp4").path, tall = media.appendingPathComponent("tall.mp4").path
    for (out, size, secs) in [(wide, "1280x720", 10), (tall, "1080x1920", 20)] {
        _ = try runTool([
            "ffmpeg", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=size=\(size):rate=30:duration=\(secs)", "-f", "lavfi",
            "-i", "sine=duration=\(secs)", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", out
        ])
    }
    let profiles = try ProfileCatalog.bundled()
    let shorts = profiles["youtube_shorts"]!
    let planner = Planner()
    let wideInfo = try await Prober().probe(path: wide, displayName: "wide.mp4")
    let spec = planner.plan(wideInfo, for: shorts).spec!
    let (stage, bare, _, _, _) = try await stageVersusBare(input: wide, info: wideInfo, spec: spec, profile: shorts, planner: planner, in: media, name: "wide")
    rows.append([
        "convert stage vs bare ffmpeg (10 s 720p → 9:16)", String(format: "%.2f s", median(stage)),
        String(format: "%.2f s", median(bare)), String(format: "%.2f× (overhead: progress, ffprobe check, rename)", median(stage) / median(bare))
    ])
    var pass: [Double] = [], copy: [Double] = []
    for i in 0..<3 {
        let start = ContinuousClock.now
        let info = try await Prober().probe(path: tall, displayName: "tall.mp4")
        precondition(planner.plan(info, for: shorts).kind == .pass)
        pass.append((ContinuousClock.now - start).seconds)
        copy.append(try runTool(["ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-i", tall, "-c", "copy", media.appendingPathComponent("copy\(i).mp4").path]))
    }
    rows.append([
        "compliant 20 s 1080×1920: pass-through vs -c copy", String(format: "%.3f s", median(pass)),
        String(format: "%.3f s", median(copy)), String(format: "%.2f× (probe + plan; nothing copied)", median(pass) / median(copy))
    ])
}

// 2b. Per plan kind, and the quality of full transcodes per profile.
rows += try await planKindRows(media: root.appendingPathComponent("media"), profiles: try ProfileCatalog.bundled())

// 3b. The digests a clip is taken with, against the reference tools (DigestCost.swift).
rows += try digestRows(root: root)

// 4. Large uploads per platform sandbox, against curl (BENCH_UPLOADS=0 skips them).
if ProcessInfo.processInfo.environment["BENCH_UPLOADS"] != "0" {
    rows += try await uploadRows(bench: benchPath(), omnipost: binary, root: root)
}

// 3. Idle: CPU time, wake-ups and RSS of the daemon watching 8 idle inboxes, against inotifywait (IdleCost.swift).
rows += try await idleRows(root: root, binary: binary, seconds: idleSeconds)

rows += try statsRows()
rows += try claimRows()
rows += try await sharedDecisionLockRows(rounds: 200)

printTable(rows)
