import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPlatforms

// 4. Uploads: a large rendition to each platform's sandbox through its adapter (in a child process of
// its own, so its peak RSS is the upload's alone), against curl sending the same bytes to the same
// sandbox in one plain PUT. Sizes: 1 GiB, or the platform's own maximum where that is smaller.

/// Tokens kept in memory: the child uploads once.
final class MemoryTokens: TokenStore, @unchecked Sendable {
    private let lock = NSLock()
    private var v: (String?, Date?, String?) = (nil, nil, nil)
    func load(account: String) async throws -> (accessToken: String?, expiresAt: Date?, refreshToken: String?) { lock.withLock { v } }
    func save(account: String, accessToken: String, expiresAt: Date, refreshToken: String?) async throws {
        lock.withLock { v = (accessToken, expiresAt, refreshToken) }
    }
}

struct UploadCase {
    var platform: String
    var bytes: Int64
    var meta: PublishMetadata
}

let uploadCases: [UploadCase] = [
    UploadCase(platform: "youtube", bytes: 1 << 30, meta: .init(title: "bench", description: "", tags: [], privacy: .private, publishAt: nil, options: [:])),
    UploadCase(platform: "tiktok", bytes: 1 << 30, meta: .init(title: "bench", description: "", tags: [], privacy: .private, publishAt: nil, options: [:])),
    UploadCase(platform: "instagram", bytes: 1 << 30, meta: .init(title: "bench", description: "", tags: [], privacy: .public, publishAt: nil, options: [:])),
    UploadCase(platform: "facebook", bytes: 1 << 30, meta: .init(title: "bench", description: "", tags: [], privacy: .public, publishAt: nil, options: [:])),
    // X takes at most 512 MiB, LinkedIn 500 MiB.
    UploadCase(platform: "x", bytes: 512 << 20, meta: .init(title: "bench", description: "", tags: [], privacy: .public, publishAt: nil, options: [:])),
    UploadCase(platform: "linkedin", bytes: 500 << 20, meta: .init(title: "bench", description: "", tags: [], privacy: .public, publishAt: nil, options: [:]))
]

/// The child: `omnipost-bench upload <platform> <sandbox base> <file> <bytes>` — one delivery, its seconds on stdout.
func uploadChild(_ a: [String]) async throws {
    let (platform, base, file, size) = (a[0], a[1], a[2], Int64(a[3]) ?? 0)
    guard let module = PlatformRegistry.module(platform), let c = uploadCases.first(where: { $0.platform == platform }) else { exit(2) }
    let d = module.descriptor
    let account = AccountConfig(
        key: "\(platform):main", platform: platform, clientID: "bench", clientSecret: "bench", refreshToken: "rt-\(platform)",
        endpoint: base, tokenURL: base + d.sandboxTokenPath)
    let settings = AdapterSettings(
        account: account, tokens: TokenProvider(account: account, http: HTTPClient.shared, store: MemoryTokens()),
        http: HTTPClient.shared, chunkSize: 8 << 20)
    let adapter = module.makeAdapter(settings)
    let start = ContinuousClock.now
    _ = try await adapter.deliver(
        UploadJob(deliveryId: 1, filePath: file, size: size, metadata: c.meta, session: nil, confirmedOffset: 0),
        checkpoint: { _ in }, progress: { _, _ in })
    print(String(format: "%.3f", (ContinuousClock.now - start).seconds))
}

/// Runs a process to its end: its stdout, wall seconds, and peak RSS (KiB, from wait4's rusage).
func runMeasured(_ exe: String, _ arguments: [String]) throws -> (out: String, seconds: Double, maxRSSKiB: Int) {
    let outFile = FileManager.default.temporaryDirectory.appendingPathComponent("bench-child-\(UUID().uuidString)")
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, outFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv: [UnsafeMutablePointer<CChar>?] = ([exe] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) }; posix_spawn_file_actions_destroy(&actions); try? FileManager.default.removeItem(at: outFile) }
    var pid: pid_t = 0
    let start = ContinuousClock.now
    guard posix_spawn(&pid, exe, &actions, nil, argv, environ) == 0 else { throw OmniError(.internalError, "cannot start \(exe)") }
    var status: Int32 = 0
    var usage = rusage()
    _ = wait4(pid, &status, 0, &usage)
    let seconds = (ContinuousClock.now - start).seconds
    let out = (try? String(contentsOf: outFile, encoding: .utf8)) ?? ""
    guard status == 0 else { throw OmniError(.internalError, "\(exe) \(arguments.prefix(2).joined(separator: " ")) exited with status \(status): \(out)") }
    return (out.trimmingCharacters(in: .whitespacesAndNewlines), seconds, Int(usage.ru_maxrss))
}

func uploadRows(bench: String, omnipost: String, root: URL) async throws -> [[String]] {
    let dir = root.appendingPathComponent("upload")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    // Several GiB of payloads and received copies: not left behind on a small disk.
    defer { try? FileManager.default.removeItem(at: dir) }
    // The platform side runs in its own process, as a real server would.
    let log = dir.appendingPathComponent("sandbox.log")
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    let sandbox = Process()
    sandbox.executableURL = URL(fileURLWithPath: omnipost)
    sandbox.arguments =
        ["sandbox", "--port", "0", "--root", dir.appendingPathComponent("sandbox").path]
        + uploadCases.flatMap { ["--account", "\($0.platform):main=bench:bench:rt-\($0.platform)"] }
    sandbox.standardOutput = try FileHandle(forWritingTo: log)
    sandbox.standardError = FileHandle.nullDevice
    try sandbox.run()
    defer { sandbox.terminate(); sandbox.waitUntilExit() }
    var base = ""
    for _ in 0..<300 where base.isEmpty {
        try await Task.sleep(for: .milliseconds(50))
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        if let line = text.split(separator: "\n").first(where: { $0.contains("listening on") }), let r = line.range(of: "http://") { base = String(line[r.lowerBound...]) }
    }
    guard !base.isEmpty else { throw OmniError(.internalError, "the sandbox did not start") }

    var rows: [[String]] = []
    var files: [Int64: URL] = [:]
    for c in uploadCases {
        let file: URL
        if let f = files[c.bytes] {
            file = f
        } else {
            // Bytes that do not compress, written once per size.
            file = dir.appendingPathComponent("payload-\(c.bytes).bin")
            _ = FileManager.default.createFile(atPath: file.path, contents: nil)
            let h = try FileHandle(forWritingTo: file)
            var rng = SystemRandomNumberGenerator()
            var left = c.bytes
            while left > 0 {
                let n = Int(min(left, 8 << 20))
                try h.write(contentsOf: Data((0..<(n / 8)).flatMap { _ in withUnsafeBytes(of: rng.next() as UInt64, Array.init) }))
                left -= Int64(n)
            }
            try h.close()
            files[c.bytes] = file
        }
        let up = try runMeasured(bench, ["upload", c.platform, base, file.path, String(c.bytes)])
        let curl = try runMeasured("/usr/bin/env", ["curl", "-sS", "-o", "/dev/null", "-T", file.path, base + "/sandbox/sink"])
        let mib = Double(c.bytes) / 1_048_576
        let adapterSeconds = Double(up.out.split(separator: "\n").last ?? "") ?? up.seconds
        rows.append([
            "upload \(Int(mib)) MiB → \(c.platform) sandbox (MiB/s, peak RSS)",
            String(format: "%.1f s, %.0f MiB/s, %d MiB RSS", adapterSeconds, mib / adapterSeconds, up.maxRSSKiB / 1024),
            String(format: "curl PUT %.1f s, %.0f MiB/s", curl.seconds, mib / curl.seconds),
            String(format: "%.2f× curl's time", adapterSeconds / curl.seconds)
        ])
    }
    return rows
}
