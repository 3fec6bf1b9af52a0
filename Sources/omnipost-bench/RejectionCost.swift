import Foundation
import Logging
import OmniPostCore
import OmniPostEmbedded
import OmniPostLedger
import OmniPostPipeline

/// What one rejected drop costs in CPU (this process and its children, from getrusage), for a burst of
/// junk `.mp4` files (each answered `not_a_video`, filed in failed/ with a report) and for a clip list
/// whose clips never arrive (each entry `missing_clip`) — beside the floor: one bare ffprobe of the same
/// junk. And where a good drop in another folder, arriving once the junk is queued, was validated among them.
func rejectionRows(root: URL, junk: Int) async throws -> [[String]] {
    // Junk files, with a good drop in another folder written last.
    let (junkCPU, junkRejected, goodAfter, floor) = try await rejectionRun(root: root, name: "junk", junk: junk, list: 0)
    // A clip list whose clips never arrive.
    let (listCPU, listRejected, _, _) = try await rejectionRun(root: root, name: "list", junk: 0, list: junk)
    BenchFigures.record("rejection.junk.cpu_ms_per_drop", junkCPU.total / Double(max(junkRejected, 1)) * 1000, .lower)
    BenchFigures.record("rejection.list.cpu_ms_per_drop", listCPU.total / Double(max(listRejected, 1)) * 1000, .lower)
    return [
        [
            "rejection CPU per drop: junk .mp4 (\(junkRejected) × not_a_video)", String(format: "%.1f ms", junkCPU.total / Double(max(junkRejected, 1)) * 1000),
            String(format: "%.1f ms bare ffprobe", floor * 1000),
            String(format: "self %.2f s + children %.2f s in all (text is answered without ffprobe)", junkCPU.selfSeconds, junkCPU.childSeconds)
        ],
        [
            "rejection CPU per drop: list entries never arriving (\(listRejected) × missing_clip)", String(format: "%.1f ms", listCPU.total / Double(max(listRejected, 1)) * 1000),
            "", String(format: "self %.2f s + children %.2f s in all (list parsed once per version)", listCPU.selfSeconds, listCPU.childSeconds)
        ],
        [
            "a good drop in another folder, arriving once the junk is queued", "validated after \(goodAfter) of \(junkRejected) rejections",
            "\(junkRejected) (first come, first served)", "round-robin across writers (folders, clip lists)"
        ]
    ]
}

/// One pipeline run to quiet over `junk` junk files plus a good drop, or a list of `list` missing clips:
/// the CPU it took, the drops rejected, how many rejections came before the good drop was validated,
/// and (with junk) the CPU of one bare ffprobe of the same junk.
func rejectionRun(root: URL, name: String, junk: Int, list: Int) async throws -> (CPU, Int, Int, Double) {
    let dir = root.appendingPathComponent("rejections-\(name)")
    let config = try PipelineConfig.parse(
        text: """
            version: 1
            name: rejections
            root: \(dir.path)
            watch: {mode: inotify, settle: 200ms}
            sidecar: {grace: 1s, missing: defaults, max_list_entries: \(max(list, 1))}
            sandbox: embedded
            targets: [youtube:main]
            """, file: "bench.yaml", baseDirectory: root)
    try config.paths.createAll()
    let inbox = config.paths.inbox
    for sub in ["junk", "list", "good"] { try FileManager.default.createDirectory(at: inbox.appendingPathComponent(sub), withIntermediateDirectories: true) }
    let floorDir = dir.appendingPathComponent("floor")
    try FileManager.default.createDirectory(at: floorDir, withIntermediateDirectories: true)
    // Junk as it comes: a third text, a third random bytes, a third zeros (space reserved, never written).
    func junkBytes(_ i: Int) -> Data {
        switch i % 3 {
        case 0: return Data("not a video \(i)\n".utf8)
        case 1: return Data((0..<4096).map { _ in UInt8.random(in: 0...255) })
        default: return Data(count: 4096)
        }
    }
    for i in 0..<junk { try junkBytes(i).write(to: inbox.appendingPathComponent("junk/j\(i).mp4")) }
    for i in 0..<min(30, junk) { try junkBytes(i).write(to: floorDir.appendingPathComponent("j\(i).mp4")) }
    if list > 0 {
        let entries = (0..<list).map { "  - {clip: never-\($0).mp4}" }.joined(separator: "\n")
        try Data("clips:\n\(entries)\n".utf8).write(to: inbox.appendingPathComponent("list/never.manifest.yaml"))
    }
    var logger = Logger(label: "bench")
    logger.logLevel = .critical
    let pipeline = try await Pipeline.open(config: config, logger: logger, embedding: EmbeddedSandbox())
    let ledger = pipeline.context.ledger
    if junk > 0 {
        // The good drop arrives once the junk is queued.
        let good = dir.appendingPathComponent("g.mp4")
        let gen = Process()
        gen.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gen.arguments = [
            "ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=1",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", good.path
        ]
        try gen.run()
        gen.waitUntilExit()
        Task.detached {
            for _ in 0..<30_000 {
                if ((try? ledger.drops(in: [.received]).count) ?? 0) >= junk / 2 { break }
                try? await Task.sleep(for: .milliseconds(10))
            }
            _ = rename(good.path, inbox.appendingPathComponent("good/g.mp4").path)
        }
    }
    let before = CPU.now()
    try await pipeline.run(once: true)
    let after = CPU.now()
    let drops = try ledger.drops()
    await pipeline.close()
    let rejected = drops.filter { $0.reasonCode != nil && $0.stem != "g" }.count
    // Where the good drop was validated: how many answers came before it.
    let events = try ledger.events(stage: "validate")
    let goodId = drops.first { $0.stem == "g" }?.id
    let goodAt = events.firstIndex { $0.dropId == goodId && $0.toState == DropState.validated.rawValue } ?? events.count
    let answeredBefore = events[..<goodAt].filter { $0.toState == DropState.rejected.rawValue }.count

    // The floor: ffprobe alone on some of the same junk.
    var floor = 0.0
    if junk > 0 {
        let probeBefore = CPU.now()
        for i in 0..<min(30, junk) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [
                "ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
                "file:" + floorDir.appendingPathComponent("j\(i).mp4").path
            ]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
        }
        floor = (CPU.now().total - probeBefore.total) / Double(min(30, junk))
    }
    let cpu = CPU(selfSeconds: after.selfSeconds - before.selfSeconds, childSeconds: after.childSeconds - before.childSeconds)
    return (cpu, rejected, answeredBefore, floor)
}

/// CPU seconds of this process and of its waited-for children (ffprobe, ffmpeg).
struct CPU {
    var selfSeconds: Double
    var childSeconds: Double
    var total: Double { selfSeconds + childSeconds }
    static let zero = CPU(selfSeconds: 0, childSeconds: 0)

    static func now() -> CPU {
        func seconds(_ u: rusage) -> Double {
            Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
        }
        var me = rusage(), children = rusage()
        // RUSAGE_SELF (0) and RUSAGE_CHILDREN (-1): Glibc's Swift overlay types the constants apart from the parameter.
        getrusage(0, &me)
        getrusage(-1, &children)
        return CPU(selfSeconds: seconds(me), childSeconds: seconds(children))
    }
}
