import Foundation
import OmniPostCore

// The digests a file is taken with (issue 30, r21): the sha256 and the XXH3-128 intake records for every
// clip, in one read (`FileHashing.digests`, through `FileBlocks`), against the two reference tools reading
// the same file once each — `openssl dgst -sha256` and `xxh128sum` — in the same run (BENCH_ONLY=digest).
// A clip is hashed before it is checked, converted or queued, so this is the time a large drop waits
// before anything else happens to it, and CPU a NAS spends per clip.

/// Bytes that do not compress, from the kernel's generator in 8 MiB reads and writes (a word at a time
/// took minutes a GiB) — the way the upload rows' payload is written, so both read page-cache pages of
/// one make (a file written 4 KiB at a time read 0.15 CPU-s a GiB here against 0.08 for one written in
/// 8 MiB writes: docs/performance.md, r21).
func writeRandomFile(_ file: URL, bytes: Int64) throws {
    _ = FileManager.default.createFile(atPath: file.path, contents: nil)
    let h = try FileHandle(forWritingTo: file)
    let random = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom"))
    var left = bytes
    while left > 0 {
        let n = Int(min(left, 8 << 20))
        guard let d = try random.read(upToCount: n), !d.isEmpty else { throw OmniError(.internalError, "/dev/urandom gave nothing") }
        try h.write(contentsOf: d)
        left -= Int64(d.count)
    }
    try random.close()
    try h.close()
}

func digestRows(root: URL, mib: Int = Int(ProcessInfo.processInfo.environment["BENCH_DIGEST_MIB"] ?? "1024") ?? 1024) throws -> [[String]] {
    let dir = root.appendingPathComponent("digest")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = dir.appendingPathComponent("clip.bin")
    try writeRandomFile(file, bytes: Int64(mib) << 20)
    sync()
    // Read once untimed: every run below reads from the page cache, as intake reads a file just written.
    _ = try FileHashing.digests(path: file.path)
    var ours: [(cpu: Double, wall: Double)] = [], tools: [(cpu: Double, wall: Double)] = []
    var same = true
    for _ in 0..<3 {
        let cpu0 = ProcessCPU.selfSeconds(), t0 = ContinuousClock.now
        let d = try FileHashing.digests(path: file.path)
        ours.append((ProcessCPU.selfSeconds() - cpu0, (ContinuousClock.now - t0).seconds))
        // The tools (`make bench` installs xxhash): a row without its baseline where one is missing.
        guard let sha = try? runMeasured("/usr/bin/env", ["openssl", "dgst", "-sha256", "-r", file.path]),
            let xxh = try? runMeasured("/usr/bin/env", ["xxh128sum", file.path])
        else { continue }
        tools.append((sha.cpuSeconds + xxh.cpuSeconds, sha.seconds + xxh.seconds))
        // The same digests, or the row means nothing.
        same = same && sha.out.hasPrefix(d.hex) && xxh.out.hasPrefix(d.xxh3)
    }
    if tools.isEmpty {
        return [["digests a clip is taken with (sha256 + XXH3-128), \(mib) MiB", String(format: "%.2f CPU-s a GiB", median(ours.map(\.cpu)) / (Double(mib) / 1024)), "openssl or xxh128sum (xxhash) missing", ""]]
    }
    let gib = Double(mib) / 1024
    let cpu = median(ours.map(\.cpu)) / gib, wall = median(ours.map(\.wall)) / gib
    let toolCPU = median(tools.map(\.cpu)) / gib, toolWall = median(tools.map(\.wall)) / gib
    BenchFigures.record("digest.cpu_s_per_gib", cpu, .lower)
    BenchFigures.record("digest.cpu_vs_tools", cpu / toolCPU, .lower, goal: 1)
    let each = { (xs: [(cpu: Double, wall: Double)]) in xs.map { String(format: "%.2f", $0.cpu / gib) }.joined(separator: "/") }
    return [
        [
            "digests a clip is taken with (sha256 + XXH3-128), \(mib) MiB from the page cache (goal ≤ 1× the tools' CPU; median of 3)",
            String(format: "%.2f CPU-s a GiB (%@), %.2f s a GiB, one read", cpu, each(ours), wall),
            String(format: "openssl dgst -sha256 + xxh128sum: %.2f CPU-s a GiB (%@), %.2f s, a read each", toolCPU, each(tools), toolWall),
            String(format: "%.2f× the tools' CPU", cpu / toolCPU) + (same ? "" : " (DIGESTS DIFFER)")
        ]
    ]
}
