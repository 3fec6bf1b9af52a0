import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

// 4. Uploads: a large rendition to each platform's sandbox through its adapter (in a child process of
// its own, so its peak RSS is the upload's alone; each part checkpointed in a real SQLite ledger), against
// curl sending the same bytes in the same requests to the same sandbox (CurlBaseline.swift), and to its
// discarding sink. Sizes: 1 GiB, or the platform's own maximum where that is smaller.

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
    UploadCase(platform: "linkedin", bytes: 500 << 20, meta: .init(title: "bench", description: "", tags: [], privacy: .public, publishAt: nil, options: [:])),
    UploadCase(platform: "vimeo", bytes: 1 << 30, meta: .init(title: "bench", description: "", tags: [], privacy: .private, publishAt: nil, options: [:])),
    UploadCase(platform: "tus", bytes: 1 << 30, meta: .init(title: "bench", description: "", tags: [], privacy: .private, publishAt: nil, options: [:])),
    UploadCase(platform: "s3", bytes: 1 << 30, meta: .init(title: "bench", description: "", tags: [], privacy: .private, publishAt: nil, options: [:]))
]

/// The account a bench upload uses, pointed at the sandbox as `omnipost run --sandbox` points it (the
/// module's `useSandbox`: a bucket and keys for S3, the server's URL for tus, a token for Vimeo), and
/// what the sandbox must be told of it.
func benchAccount(_ platform: String, base: String) -> (AccountConfig, [SandboxGrant])? {
    guard let module = PlatformRegistry.module(platform) else { return nil }
    var account = AccountConfig(
        key: "\(platform):main", platform: platform, clientID: "bench", clientSecret: "bench", refreshToken: "rt-\(platform)",
        endpoint: "", tokenURL: "")
    let grants = module.useSandbox(&account, base: base, root: FileManager.default.temporaryDirectory)
    return (account, grants)
}

/// `omnipost sandbox` flags for the bench accounts: an OAuth account each, and the tokens and keys the
/// modules' sandbox grants name.
func sandboxFlags(_ cases: [UploadCase]) -> [String] {
    var flags: [String] = []
    for c in cases {
        flags += ["--account", "\(c.platform):main=bench:bench:rt-\(c.platform)"]
        for g in benchAccount(c.platform, base: "http://127.0.0.1")?.1 ?? [] {
            if let t = g.credentials["access_token"] { flags += ["--token", "\(g.account)=\(t)"] }
            if let id = g.credentials["access_key_id"], let secret = g.credentials["secret_access_key"] { flags += ["--s3-key", "\(id):\(secret)"] }
        }
    }
    return flags
}

/// The child: `omnipost-bench upload <platform> <sandbox base> <file> <bytes> [<sha256> [<xxh3-128>]]` — one delivery, its seconds on stdout.
func uploadChild(_ a: [String]) async throws {
    // As `omnipost run` sets it up.
    MemoryTuning.apply()
    let (platform, base, file, size) = (a[0], a[1], a[2], Int64(a[3]) ?? 0)
    guard let module = PlatformRegistry.module(platform), let c = uploadCases.first(where: { $0.platform == platform }),
        let account = benchAccount(platform, base: base)?.0
    else { exit(2) }
    // Over HTTPS (`uploadsOverTLS`) the daemon's own client, trusting the sandbox's CA.
    let http = try benchHTTPClient()
    let settings = AdapterSettings(
        account: account, tokens: TokenProvider(account: account, http: http, store: MemoryTokens()),
        http: http, uploads: try benchUploadsClient(), chunkSize: 8 << 20)
    let adapter = module.makeAdapter(settings)
    // Each part checkpointed in a real SQLite ledger beside the file, as the upload stage does (a WAL
    // commit per confirmed part, synced only where the checkpoint says it must outlive a power cut —
    // `durable`, as the stage passes it; it used to be left out here, so every part's commit was synced):
    // its cost is ours, so it is in the figure.
    // A fresh one each run: the run before left its delivery in the last one (planting it again failed
    // the second of BENCH_UPLOAD_RUNS on the drop's unique id).
    let ledgerPath = file + ".\(platform).ledger.sqlite"
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: ledgerPath + suffix) }
    let ledger = try Ledger(path: ledgerPath)
    try ledger.plantReadyDeliveries(count: 1)
    guard let claim = try ledger.claimDelivery(owner: "bench:1:t", lease: 600), let id = claim.delivery.id else { exit(3) }
    // The rendition's sha256 and XXH3-128, as the ledger hands them to the upload stage (`DeliveryJob`;
    // worked out by the parent in one read, as the convert stage does): the chunk loop checks the file
    // against the XXH3-128 as production's does, and S3 takes the sha256 rather than hashing the whole
    // file before its first part.
    // A text of its own each run: X refuses a second post with the same text (403 duplicate content),
    // which failed the second of BENCH_UPLOAD_RUNS on one sandbox.
    var meta = c.meta
    meta.title += " \(getpid())"
    // …and S3's object a key of its own: the run before's object under the same key is found and taken
    // for this upload's, done before a byte is sent.
    if platform == "s3" { meta.options["key"] = "bench-\(getpid()).bin" }
    var job = UploadJob(deliveryId: id, filePath: file, size: size, metadata: meta, session: nil, confirmedOffset: 0)
    job.expectedSha256 = a.count > 4 ? a[4] : nil
    job.expectedDigest = a.count > 5 && !a[5].isEmpty ? FileDigest(.xxh3_128, a[5]) : nil
    // The sandbox's CPU over the parts alone (BENCH_SANDBOX_PID, set by the parent): read when the session
    // is on record and when the last part is confirmed — twice a run, not per part — so the sandbox's
    // finish (LinkedIn assembling and hashing the parts) is not counted against the parts.
    let parts = PartTally(size: size, sandbox: ProcessInfo.processInfo.environment["BENCH_SANDBOX_PID"].flatMap { Int32($0) })
    let cpuBefore = ProcessCPU.selfSeconds()
    let start = ContinuousClock.now
    _ = try await adapter.deliver(
        job,
        checkpoint: { cp in
            let t0 = ContinuousClock.now
            try ledger.checkpoint(
                deliveryId: id, owner: "bench:1:t", lease: 600, session: cp.session, confirmedOffset: cp.confirmedOffset, bytesSent: cp.bytesSent,
                durable: cp.durable)
            parts.checkpointed(ContinuousClock.now - t0, session: cp.durable && cp.confirmedOffset == 0)
        }, progress: { sent, _ in parts.confirmed(sent) })
    let cpu = ProcessCPU.selfSeconds() - cpuBefore
    let t = parts.read()
    // Whole delivery; the bytes alone (from the session persisted, right before the first part, to the last
    // part confirmed — curl's baseline is timed over its parts alone, its session opened before the clock
    // starts, so ours leaves out the same: the token, who is posting, the session's request and its synced
    // checkpoint); the parts and the first one's size; the seconds spent in checkpoints; the CPU seconds the
    // delivery took (user + system, every thread of this process); the session's opening.
    let opened = t.sessionAt ?? start
    let sandboxCPU = t.sandboxOverParts ?? (user: -1, system: -1)
    print(
        String(
            format: "%.3f %.3f %d %lld %.3f %.3f %.3f %.3f %.3f", (ContinuousClock.now - start).seconds, (t.lastAt - opened).seconds, t.count, t.first,
            t.checkpoints.seconds, cpu, (opened - start).seconds, sandboxCPU.user, sandboxCPU.system))
}

/// The parts a delivery's chunk loop confirmed (its progress calls), the first one's size, when the last
/// came, and when the session was last checkpointed before any part (the parts start then).
final class PartTally: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0, first: Int64 = 0, sent: Int64 = 0
    private var lastAt = ContinuousClock.now
    private var sessionAt: ContinuousClock.Instant? = nil
    private var inCheckpoints = Duration.zero
    private let size: Int64, sandbox: Int32?
    private var sandboxAtSession: (user: Double, system: Double)?, sandboxAtLast: (user: Double, system: Double)?

    init(size: Int64, sandbox: Int32?) { (self.size, self.sandbox) = (size, sandbox) }

    /// A checkpoint that took `d`; a synced one at offset 0 before any part was confirmed is the session's
    /// (or its marker's), and the last of them ends the session's opening — not the chunk loop's own save
    /// at 0 after a cut first part, which is not synced.
    func checkpointed(_ d: Duration, session: Bool) {
        lock.withLock {
            inCheckpoints += d
            if session && count == 0 {
                sessionAt = .now
                sandboxAtSession = sandbox.flatMap { ProcessCPU.split(pid: $0) }
            }
        }
    }

    func confirmed(_ offset: Int64) {
        lock.withLock {
            guard offset > sent else { return }
            if count == 0 { first = offset }
            count += 1
            sent = offset
            lastAt = .now
            if offset >= size { sandboxAtLast = sandbox.flatMap { ProcessCPU.split(pid: $0) } }
        }
    }

    func read() -> (
        count: Int, first: Int64, lastAt: ContinuousClock.Instant, sessionAt: ContinuousClock.Instant?, checkpoints: Duration,
        sandboxOverParts: (user: Double, system: Double)?
    ) {
        lock.withLock {
            let overParts = sandboxAtSession.flatMap { a in sandboxAtLast.map { b in (user: b.user - a.user, system: b.system - a.system) } }
            return (count, first, lastAt, sessionAt, inCheckpoints, overParts)
        }
    }
}

/// Runs a process to its end: its stdout, wall seconds, peak RSS (KiB, from wait4's rusage) and CPU seconds
/// (user + system, its waited-for children's included). A child that fails is reported with the start of
/// what it said on stderr (a Swift error's message).
func runMeasured(_ exe: String, _ arguments: [String]) throws -> (out: String, seconds: Double, maxRSSKiB: Int, cpuSeconds: Double) {
    let outFile = FileManager.default.temporaryDirectory.appendingPathComponent("bench-child-\(UUID().uuidString)")
    let errFile = outFile.appendingPathExtension("err")
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, outFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, errFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let argv: [UnsafeMutablePointer<CChar>?] = ([exe] + arguments).map { strdup($0) } + [nil]
    defer {
        argv.forEach { free($0) }
        posix_spawn_file_actions_destroy(&actions)
        try? FileManager.default.removeItem(at: outFile)
        try? FileManager.default.removeItem(at: errFile)
    }
    var pid: pid_t = 0
    let start = ContinuousClock.now
    guard posix_spawn(&pid, exe, &actions, nil, argv, environ) == 0 else { throw OmniError(.internalError, "cannot start \(exe)") }
    var status: Int32 = 0
    var usage = rusage()
    _ = wait4(pid, &status, 0, &usage)
    let seconds = (ContinuousClock.now - start).seconds
    let out = (try? String(contentsOf: outFile, encoding: .utf8)) ?? ""
    guard status == 0 else {
        let said = ((try? String(contentsOf: errFile, encoding: .utf8)) ?? "").split(separator: "\n").prefix(3).joined(separator: " / ")
        throw OmniError(.internalError, "\(exe) \(arguments.prefix(2).joined(separator: " ")) exited with status \(status): \(out) \(said)")
    }
    return (out.trimmingCharacters(in: .whitespacesAndNewlines), seconds, Int(usage.ru_maxrss), ProcessCPU.seconds(usage))
}

/// Where the uploads' payloads and the sandbox's received copies go: BENCH_UPLOAD_DIR, else /dev/shm when it
/// has room — so neither side's time is the disk's writeback (the same upload by curl took 1.7–10 s in a row
/// on this machine's disk, most of it the sandbox writing what it received) — else the bench's own folder.
func uploadBenchDir(root: URL) -> URL {
    if let d = ProcessInfo.processInfo.environment["BENCH_UPLOAD_DIR"] { return URL(fileURLWithPath: d) }
    var fs = statvfs()
    if statvfs("/dev/shm", &fs) == 0, UInt64(fs.f_bavail) * UInt64(fs.f_frsize) >= 6 << 30 {
        return URL(fileURLWithPath: "/dev/shm/omnipost-bench-upload-\(getpid())")
    }
    return root.appendingPathComponent("upload")
}

/// Removes the files over 16 MiB under `dir` but `keep`: what the sandbox received, once a platform is measured.
func pruneReceived(_ dir: URL, keep: Set<String>) {
    guard let walk = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey]) else { return }
    for case let url as URL in walk where !keep.contains(url.path) {
        let v = try? url.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey])
        if v?.isRegularFile == true, (v?.fileSize ?? 0) > 16 << 20 { try? FileManager.default.removeItem(at: url) }
    }
}

/// Reads `paths` once, untimed, right before a side's run: this VM's kernel reclaims page cache left
/// untouched for a while (DAMON's reclaim: a 1 GiB file unread for half an hour cost 0.4–0.9 CPU-s to read
/// again, 0.11 once back in memory — docs/performance.md, r21), and whichever side's input had been
/// paged out paid for it inside its timed run.
func warm(_ paths: [String]) {
    for p in paths {
        let fd = open(p, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { continue }
        _ = try? FileBlocks.forEach(fd, failed: FileBlocks.unreadable(p)) { _ in }
        close(fd)
    }
}

func uploadRows(bench: String, omnipost: String, root: URL) async throws -> [[String]] {
    let dir = uploadBenchDir(root: root)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    // Several GiB of payloads and received copies: not left behind on a small disk (or in memory).
    defer { try? FileManager.default.removeItem(at: dir) }
    // The platform side runs in its own process, as a real server would.
    let (sandbox, plainBase, tls) = try await startSandboxWithTLS(omnipost: omnipost, in: dir, arguments: sandboxFlags(uploadCases))
    defer { sandbox.terminate(); sandbox.waitUntilExit() }
    // BENCH_UPLOAD_RUNS (3) runs of each side, taken in turn — ours, the sink's, curl's — and each side's
    // median compared, so one slow moment of a busy machine does not decide the row.
    let runs = max(1, Int(ProcessInfo.processInfo.environment["BENCH_UPLOAD_RUNS"] ?? "3") ?? 3)

    var rows: [[String]] = []
    var files: [Int64: URL] = [:]
    var shas: [Int64: (sha256: String, xxh3: String)] = [:]
    // BENCH_UPLOAD_CHECK=sha256: the child checks the file against its sha256, as a delivery recorded
    // before ledger v22 is — the upload as it was before the XXH3-128 check, for a before/after in one run.
    let sha256Check = ProcessInfo.processInfo.environment["BENCH_UPLOAD_CHECK"] == "sha256"
    // BENCH_PLATFORMS=youtube,x measures only those adapters.
    let only = ProcessInfo.processInfo.environment["BENCH_PLATFORMS"].map { Set($0.split(separator: ",").map(String.init)) }
    for c in uploadCases where only?.contains(c.platform) ?? true {
        // S3 and tus over HTTPS, every side of their row (BenchTLS.swift); the children find the CA here.
        let base: String
        if uploadsOverTLS(c.platform), let tls {
            base = tls.base
            setenv(benchCAVariable, tls.ca, 1)
        } else {
            base = plainBase
            unsetenv(benchCAVariable)
        }
        let file: URL
        if let f = files[c.bytes] {
            file = f
        } else {
            // Bytes that do not compress, written once per size.
            file = dir.appendingPathComponent("payload-\(c.bytes).bin")
            try writeRandomFile(file, bytes: c.bytes)
            files[c.bytes] = file
            let d = try FileHashing.digests(path: file.path)
            shas[c.bytes] = (d.hex, d.xxh3)
        }
        let slices = dir.appendingPathComponent("slices")
        defer { try? FileManager.default.removeItem(at: slices) }
        var ours: [(seconds: Double, bytesSeconds: Double, parts: Int, partSize: Int64, checkpoints: Double, rssKiB: Int)] = []
        var sinks: [Double] = [], curls: [Double] = []
        var names: [String] = []
        var cpu = (ours: [Double](), sandboxForOurs: [Double](), curl: [Double](), sandboxForCurl: [Double]())
        // The sandbox's user and system CPU over our parts alone, and over curl's run (its session's few
        // small requests in it too): seconds, a pair a run.
        var sandboxParts = (ours: [(user: Double, system: Double)](), curl: [(user: Double, system: Double)]())
        setenv("BENCH_SANDBOX_PID", String(sandbox.processIdentifier), 1)
        for _ in 0..<runs {
            // Each timed run starts with nothing dirty in the page cache: the payload just written, or the
            // sandbox's copy from the run before, flushed meanwhile made whichever run it fell in the slower one.
            sync()
            warm([file.path])
            let sandboxBefore = ProcessCPU.of(pid: sandbox.processIdentifier)
            let up = try runMeasured(bench, ["upload", c.platform, base, file.path, String(c.bytes), shas[c.bytes]?.sha256 ?? "", sha256Check ? "" : shas[c.bytes]?.xxh3 ?? ""])
            let fields = up.out.split(separator: "\n").last?.split(separator: " ") ?? []
            let adapterSeconds = fields.count > 0 ? Double(fields[0]) ?? up.seconds : up.seconds
            ours.append(
                (
                    adapterSeconds, fields.count > 1 ? Double(fields[1]) ?? adapterSeconds : adapterSeconds, fields.count > 2 ? Int(fields[2]) ?? 1 : 1,
                    fields.count > 3 ? Int64(fields[3]) ?? c.bytes : c.bytes, fields.count > 4 ? Double(fields[4]) ?? 0 : 0, up.maxRSSKiB
                ))
            // CPU seconds: the delivery's own (the child's, from its start to its end), and the sandbox's
            // while it ran — set beside curl's and the sandbox's for curl's run below.
            cpu.ours.append(fields.count > 5 ? Double(fields[5]) ?? up.cpuSeconds : up.cpuSeconds)
            if let b = sandboxBefore, let a = ProcessCPU.of(pid: sandbox.processIdentifier) { cpu.sandboxForOurs.append(a - b) }
            if fields.count > 8, let u = Double(fields[7]), let s = Double(fields[8]), u >= 0 { sandboxParts.ours.append((u, s)) }
            // The baseline: curl sending the same bytes in as many requests of the same size, one after the
            // other on one connection, to the platform's own endpoints (CurlBaseline.swift), and to the
            // sandbox's sink (each body streamed to a file; no session to look up, nothing assembled): the
            // difference is the sandbox's own per-part work. Slices are cut once (curl sends whole files).
            if names.isEmpty {
                try FileManager.default.createDirectory(at: slices, withIntermediateDirectories: true)
                _ = try runMeasured("/usr/bin/env", ["split", "-b", String(max(ours[0].partSize, 1)), "-d", "-a", "4", file.path, slices.path + "/p"])
                names = try FileManager.default.contentsOfDirectory(atPath: slices.path).sorted().map { slices.path + "/" + $0 }
            }
            pruneReceived(dir, keep: Set(files.values.map(\.path) + names))
            sync()
            warm(names)
            sinks.append(
                try runCurl(
                    names.map { CurlPart(method: "PUT", url: base + "/sandbox/sink", headers: [], slice: $0) }, config: dir.appendingPathComponent("sink.cfg").path
                ).seconds)
            // The sink's copy gone too, so curl's run starts as ours did: on this VM memory freed and taken
            // again later is slow to touch (its balloon hands free pages back to the host), and the side that
            // writes into it first pays (docs/performance.md, r20).
            pruneReceived(dir, keep: Set(files.values.map(\.path) + names))
            sync()
            warm(names)
            let curlSandboxBefore = ProcessCPU.of(pid: sandbox.processIdentifier), curlSandboxSplit = ProcessCPU.split(pid: sandbox.processIdentifier)
            let same = try runMeasured(bench, ["curl", c.platform, base, slices.path, String(c.bytes), String(ours[0].partSize)]).out
            let said = same.split(separator: "\n").last?.split(separator: " ") ?? []
            if let s = said.first.flatMap({ Double($0) }) {
                curls.append(s)
                if said.count > 1, let c = Double(said[1]) { cpu.curl.append(c) }
                // The session's setup (a few small requests) is in it too.
                if let b = curlSandboxBefore, let a = ProcessCPU.of(pid: sandbox.processIdentifier) { cpu.sandboxForCurl.append(a - b) }
                if let b = curlSandboxSplit, let a = ProcessCPU.split(pid: sandbox.processIdentifier) {
                    sandboxParts.curl.append((a.user - b.user, a.system - b.system))
                }
            }
            pruneReceived(dir, keep: Set(files.values.map(\.path) + names))
        }
        let bytesSeconds = median(ours.map(\.bytesSeconds)), adapterSeconds = median(ours.map(\.seconds))
        let checkpointSeconds = median(ours.map(\.checkpoints)), rssKiB = ours.map(\.rssKiB).sorted()[ours.count / 2]
        let parts = ours[0].parts, partSize = ours[0].partSize
        let sink = median(sinks)
        let endpoint = curls.isEmpty ? nil : median(curls)
        let curl = endpoint ?? sink
        let mib = Double(c.bytes) / 1_048_576
        let spread = { (xs: [Double]) in xs.map { String(format: "%.2f", $0) }.joined(separator: "/") }
        rows.append([
            "upload \(Int(mib)) MiB → \(c.platform) sandbox\(base.hasPrefix("https") ? " (HTTPS)" : ""), \(parts) parts (goal ≥ 0.9× curl's speed; peak RSS ≤ \(64 + partSize >> 20) MiB; median of \(runs))",
            String(
                format: "%.2f s to the last part (%@), %.0f MiB/s (%.2f s in all; checkpoints %.0f ms), %d MiB RSS", bytesSeconds, spread(ours.map(\.bytesSeconds)),
                mib / bytesSeconds, adapterSeconds, checkpointSeconds * 1000, rssKiB / 1024),
            (endpoint.map { String(format: "curl, same %d requests: %.2f s (%@); ", names.count, $0, spread(curls)) } ?? "")
                + String(format: "to the sink: %.2f s", sink)
                + (endpoint.map { String(format: " (the sandbox's own work: %.1f ms a part)", ($0 - sink) * 1000 / Double(max(names.count, 1))) } ?? ""),
            String(format: "%.2f× curl's speed", curl / bytesSeconds) + (endpoint == nil ? " (the sink's)" : "")
        ])
        rows.append(cpuRow(c.platform, cpu, gib: Double(c.bytes) / Double(1 << 30), spread: spread))
        if !sandboxParts.ours.isEmpty { rows.append(sandboxPartsRow(c.platform, sandboxParts, gib: Double(c.bytes) / Double(1 << 30))) }
        BenchFigures.record("upload.\(c.platform).speed_vs_curl", curl / bytesSeconds, .higher, goal: 0.9)
        BenchFigures.record("upload.\(c.platform).peak_rss_mib", Double(rssKiB) / 1024, .lower, goal: Double(64 + partSize >> 20))
        if !cpu.ours.isEmpty { BenchFigures.record("upload.\(c.platform).cpu_s_per_gib", median(cpu.ours) * Double(1 << 30) / Double(c.bytes), .lower) }
        // The sandbox's CPU over our parts against over curl's (user + system, medians): a client whose
        // requests make the platform's side work harder shows here, where the speed row would blame the sandbox.
        let sandboxOurs = sandboxParts.ours.map { $0.user + $0.system }, sandboxCurl = sandboxParts.curl.map { $0.user + $0.system }
        if !sandboxOurs.isEmpty, !sandboxCurl.isEmpty, median(sandboxCurl) > 0 {
            BenchFigures.record("upload.\(c.platform).sandbox_parts_vs_curl", median(sandboxOurs) / median(sandboxCurl), .lower)
        }
    }
    return rows
}

/// CPU seconds a GiB, median of the runs: the delivery's against curl's, and the sandbox's for each — what
/// a busy machine's wall clock hides (each side's CPU a GiB does not move with the load), and whether the
/// sandbox does more work for our requests than for curl's.
func cpuRow(
    _ platform: String, _ cpu: (ours: [Double], sandboxForOurs: [Double], curl: [Double], sandboxForCurl: [Double]), gib: Double,
    spread: ([Double]) -> String
) -> [String] {
    func perGiB(_ xs: [Double]) -> String { xs.isEmpty ? "–" : String(format: "%.2f", median(xs) / gib) }
    return [
        "  CPU-s a GiB, \(platform): the client's; the sandbox's",
        "ours \(perGiB(cpu.ours)) (\(spread(cpu.ours.map { $0 / gib }))); the sandbox's for ours \(perGiB(cpu.sandboxForOurs))",
        "curl \(perGiB(cpu.curl)) (\(spread(cpu.curl.map { $0 / gib }))); the sandbox's for curl's \(perGiB(cpu.sandboxForCurl))",
        cpu.ours.isEmpty || cpu.curl.isEmpty ? "" : String(format: "%.2f× curl's CPU", median(cpu.ours) / median(cpu.curl))
    ]
}

/// The sandbox's CPU a GiB while the parts went, user + system, each run: ours from the session on record
/// to the last part confirmed (the child reads it), curl's over its whole run — so a sandbox doing more for
/// our parts than for curl's shows here, and its finish (assembling, hashing) does not.
func sandboxPartsRow(_ platform: String, _ runs: (ours: [(user: Double, system: Double)], curl: [(user: Double, system: Double)]), gib: Double) -> [String] {
    func each(_ xs: [(user: Double, system: Double)]) -> String {
        xs.map { String(format: "%.2f+%.2f", $0.user / gib, $0.system / gib) }.joined(separator: " / ")
    }
    return ["  the sandbox's CPU-s a GiB over the parts, \(platform): user+system each run", "ours \(each(runs.ours))", "curl's \(each(runs.curl))", ""]
}
