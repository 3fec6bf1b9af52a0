import Foundation

/// The figures `make bench-check` compares (scripts/bench-check.sh): one `key value better goal` line per
/// measure, appended to the file named by BENCH_FIGURES, `better` saying which way is an improvement and
/// `goal` the target for it (`-` where the figure has none; it is printed beside the median).
/// Ratios to a baseline of the same run are preferred to absolute times, so a slower or busier machine
/// moves both sides alike.
enum BenchFigures {
    enum Better: String { case higher, lower }

    static func record(_ key: String, _ value: Double, _ better: Better, goal: Double? = nil) {
        guard let path = ProcessInfo.processInfo.environment["BENCH_FIGURES"], value.isFinite else { return }
        let line = key + String(format: " %.4f ", value) + better.rawValue + " " + (goal.map { String(format: "%g", $0) } ?? "-") + "\n"
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else { return }
        defer { try? h.close() }
        _ = try? h.seekToEnd()
        try? h.write(contentsOf: Data(line.utf8))
    }
}
