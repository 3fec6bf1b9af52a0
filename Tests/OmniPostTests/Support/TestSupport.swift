import Foundation
import Logging
import OmniPostCore
import OmniPostPipeline
import Testing

/// A fresh temporary folder per test, removed afterwards.
final class TempDir: @unchecked Sendable {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("omnipost-test-\(UUID().uuidString.prefix(12))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// OMNIPOST_KEEP_TEST_DIRS=1 keeps them, to look at a failing run's ledger and logs.
    deinit {
        if ProcessInfo.processInfo.environment["OMNIPOST_KEEP_TEST_DIRS"] == nil {
            try? FileManager.default.removeItem(at: url)
            for o in others { try? FileManager.default.removeItem(atPath: o) }
        }
    }

    func file(_ rel: String) -> URL { url.appendingPathComponent(rel) }

    /// A fresh folder on tmpfs (/dev/shm), where no hard link from this folder can reach — nil where both are
    /// on one file system. Removed with this folder.
    func elsewhere() -> String? {
        let shm = "/dev/shm/omnipost-test-\(UUID().uuidString.prefix(12))"
        guard mkdir(shm, 0o700) == 0 else { return nil }
        var a = stat(), b = stat()
        guard stat(shm, &a) == 0, stat(url.path, &b) == 0, a.st_dev != b.st_dev else {
            rmdir(shm)
            return nil
        }
        others.append(shm)
        return shm
    }
    private var others: [String] = []

    @discardableResult
    func write(_ rel: String, _ text: String) throws -> URL {
        let u = file(rel)
        try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: u)
        return u
    }
}

/// Clips made by ffmpeg from lavfi sources, cached for the whole test run by their parameters.
enum Clips {
    static let cache: URL = {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("omnipost-test-clips-\(getpid())")
        try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }()
    private static let lock = NSLock()

    /// A clip with the given size, length and codec; `audio: false` leaves the audio track out.
    static func make(
        width: Int, height: Int, seconds: Double, fps: Int = 30, codec: String = "libx264", audio: Bool = true,
        extra: [String] = []
    ) throws -> URL {
        let name = "\(width)x\(height)-\(seconds)s-\(fps)-\(codec)-\(audio)-\(extra.joined(separator: "_").replacingOccurrences(of: "/", with: "")).mp4"
        let out = cache.appendingPathComponent(name)
        lock.lock(); defer { lock.unlock() }
        if FileManager.default.fileExists(atPath: out.path) { return out }
        var args = [
            "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=\(width)x\(height):rate=\(fps):duration=\(seconds)"
        ]
        if audio { args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=\(seconds)"] }
        args += ["-map", "0:v"] + (audio ? ["-map", "1:a", "-c:a", "aac", "-b:a", "64k"] : [])
        args += ["-c:v", codec, "-preset", "ultrafast", "-pix_fmt", "yuv420p"] + extra + [out.path + ".tmp.mp4"]
        try run("ffmpeg", args)
        try FileManager.default.moveItem(atPath: out.path + ".tmp.mp4", toPath: out.path)
        return out
    }

    static func copy(_ clip: URL, to dest: URL) throws {
        try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: clip, to: dest)
    }

    static func run(_ tool: String, _ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [tool] + args
        let err = Pipe()
        p.standardError = err
        try p.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationStatus != 0 {
            throw OmniError(.internalError, "\(tool) failed: \(String(decoding: data, as: UTF8.self))")
        }
    }
}

/// Builds a pipeline config for a temp root with the embedded sandbox.
enum TestPipelines {
    static func config(
        root: URL, extra: String = "",
        targets: String = """
        targets:
          - youtube:main
          - name: shorts:main
            platform: youtube
            profile: youtube_shorts
            account: main
        """, settle: String = "200ms", grace: String = "1s", chunk: String = "256KiB", missing: String = "fail",
        quotas: String = TestPipelines.generousQuotas, upload: String? = nil
    ) throws -> PipelineConfig {
        let text = """
            version: 1
            name: test
            root: \(root.path)
            watch: {mode: inotify, settle: \(settle)}
            sidecar: {grace: \(grace), missing: \(missing)}
            sandbox: embedded
            upload: \(upload ?? "{chunk_size: \(chunk), concurrency: 2}")
            \(quotas)
            \(extra)
            \(targets)
            """
        return try PipelineConfig.parse(text: text, file: "test.yaml", baseDirectory: root)
    }

    /// Test suites post far more than the real daily quotas allow (6 YouTube inserts a day at 1,600 units):
    /// they run as a project granted more, as real projects can be. Quota tests set their own.
    /// A clip and its sidecar, put into a pipeline's inbox as `<stem>.mp4` + `<stem>.yaml`.
    static func drop(_ clip: URL, as stem: String, sidecar: String, into config: PipelineConfig) throws {
        try Clips.copy(clip, to: config.paths.inbox.appendingPathComponent(stem + ".mp4"))
        try Data(sidecar.utf8).write(to: config.paths.inbox.appendingPathComponent(stem + ".yaml"))
    }

    static let generousQuotas = """
        quotas:
          youtube: [{name: upload_units, limit: 1000000, cost: 1600, window: day, zone: America/Los_Angeles}]
          tiktok: [{name: posts, limit: 1000, window: 24h}]
        """

    static let logger: Logger = {
        var l = Logger(label: "omnipost.test")
        l.logLevel = .critical
        return l
    }()

    /// Opens a pipeline and runs it with `--once` semantics, bounded in time.
    static func runOnce(
        _ config: PipelineConfig, timeout: Duration = .seconds(300), lines: LinesBox? = nil,
        before: (@Sendable (Pipeline) async throws -> Void)? = nil
    ) async throws -> Pipeline {
        let sink = lines.map { box in ProgressSink { box.add($0) } } ?? .silent
        let p = try await Pipeline.open(
            config: config, logger: logger, progress: sink,
            backoff: .init(base: .milliseconds(20), cap: .milliseconds(200)), embedding: embedding)
        do {
            try await before?(p)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await p.run(once: true) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw OmniError(.internalError, "pipeline did not finish within \(timeout)")
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            // A run that timed out or was cancelled (a test's time limit) still closes its pipeline: an
            // HTTP client left open traps when it is freed, taking every other test down with it.
            await p.close()
            throw error
        }
        return p
    }
}

final class LinesBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}

func readJSON(_ url: URL) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
}

func files(under url: URL) -> [String] {
    guard let e = FileManager.default.enumerator(atPath: url.path) else { return [] }
    return (e.allObjects as? [String] ?? []).filter {
        var isDir: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path, isDirectory: &isDir)
        return !isDir.boolValue
    }.sorted()
}

/// Runs blocking work (waiting for a child process, sleeping on a thread) on a thread of its own.
/// The suite's async tests share a cooperative pool of one thread per core — two here — and a test
/// that blocks one of them for a minute stalls every watcher, sandbox and pipeline of the others.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (cont: CheckedContinuation<T, any Error>) in
        let t = Thread { cont.resume(with: Result { try body() }) }
        t.start()
    }
}
