import AsyncHTTPClient
import Foundation
import OmniPostCore
@testable import OmniPostEmbedded
@testable import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// One platform's adapter against its sandbox, its account made exactly as a sandboxed pipeline makes
/// it (the pipeline file's defaults, then `EmbeddedSandbox.wire`), and a file of `fixture.size` bytes.
/// Each `adapter()` is a new one — a new process — sharing only what a process keeps on disk (the
/// token store).
struct ConformanceRig: Sendable {
    let fixture: ConformanceFixture
    let dir: TempDir
    let server: SandboxServer
    let account: AccountConfig
    let settings: AdapterSettings
    let store: MemoryTokenStore
    let file: URL
    let sha256: String
    /// The file's XXH3-128, as the ledger hands it to the upload stage beside the sha256 (v22).
    let xxh3: String
    var size: Int64 { fixture.size }
    var state: SandboxState { server.state }
    var accountKey: String { account.key }

    /// A post as the platform (or destination) keeps it.
    struct Post: Sendable {
        var id: String
        var sha256: String
        var text: String
    }

    /// A new adapter, as a restarted daemon makes it: a fresh token provider reading the shared store.
    func adapter() -> any PlatformAdapter {
        var s = settings
        s.tokens = TokenProvider(account: account, http: settings.http, store: store)
        return fixture.adapter(s)
    }

    func job(session: String? = nil, offset: Int64 = 0) throws -> UploadJob {
        var j = UploadJob(deliveryId: 1, filePath: file.path, size: size, metadata: fixture.meta, session: session, confirmedOffset: offset)
        j.expectedSha256 = sha256
        j.expectedDigest = FileDigest(.xxh3_128, xxh3)
        j.frame = (1080, 1920)
        j.drop = DropFacts(
            dropId: "20261205-conformance", target: accountKey, stem: "conformance", source: "conformance.mp4",
            takenAt: Date(timeIntervalSince1970: 1_796_000_000), sourceSha256: sha256)
        j.scratchDirectory = dir.file("work").path
        try fixture.prepare(&j, dir)
        return j
    }

    @discardableResult
    func deliver(
        with adapter: (any PlatformAdapter)? = nil, session: String? = nil, offset: Int64 = 0,
        checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void = { _ in }
    ) async throws -> PublishOutcome {
        try await (adapter ?? self.adapter()).deliver(try job(session: session, offset: offset), checkpoint: checkpoint, progress: { _, _ in })
    }

    /// What the target holds now: the sandbox's posts of this platform, or the files a folder or a
    /// program wrote.
    func posts() async throws -> [Post] {
        if let folder = outputFolder {
            return try files(under: folder).filter { !$0.hasPrefix(".") && !$0.contains("/.") }.map { name in
                Post(id: name, sha256: try FileHashing.sha256(path: folder.appendingPathComponent(name).path).hex, text: name)
            }
        }
        return await state.allVideos().filter { $0.platform == fixture.name }.map { Post(id: $0.id, sha256: $0.sha256, text: $0.title + "\n" + $0.description) }
    }

    /// Where a target that is not a remote platform writes (a folder's path; the test program's folder).
    var outputFolder: URL? {
        switch fixture.name {
        case "folder": return (try? account.text("path")).map { URL(fileURLWithPath: $0) }
        case "command": return dir.file("posted")
        default: return nil
        }
    }

    func count(_ route: String?) async -> Int {
        guard let route else { return 0 }
        return await state.requestCounts[route] ?? 0
    }

    /// Runs `body` with a rig for `fixture`, its sandbox always stopped afterwards (also when `body` throws).
    static func with<T: Sendable>(
        _ fixture: ConformanceFixture, faults: SandboxState.Faults = .init(),
        _ body: (ConformanceRig) async throws -> T
    ) async throws -> T {
        let dir = try TempDir()
        let rig = try await make(fixture, dir, faults: faults)
        // A case still running after 90 s says where it stands (the sandbox's requests so far), so a run
        // that hits the time limit leaves a trace of where it stuck, not only that it did.
        let watch = Task {
            try await Task.sleep(for: .seconds(90))
            let counts = await rig.state.requestCounts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            print("conformance \(fixture.name): still running after 90 s; sandbox requests so far: \(counts.joined(separator: " "))")
        }
        defer { watch.cancel() }
        do {
            let v = try await body(rig)
            await rig.server.stop()
            return v
        } catch {
            await rig.server.stop()
            throw error
        }
    }

    private static func make(_ fixture: ConformanceFixture, _ dir: TempDir, faults: SandboxState.Faults) async throws -> ConformanceRig {
        let d = fixture.module.descriptor
        let s = SandboxServer(root: dir.file("sandbox"))
        // A platform whose sandbox serves HTTPS (Reddit's media host) gets the run's certificate, and a client that trusts it.
        if d.sandboxTLS { try TestTLS.seed(dir.file("sandbox")) }
        try await s.start(tls: d.sandboxTLS)
        let http = d.sandboxTLS ? TestTLS.client : HTTPClient.shared
        let key = "\(d.name):brand"
        let yaml = try fixture.accountYAML(dir)
        let accounts = yaml.isEmpty ? "" : "accounts:\n  \(key):\n" + yaml
        var config = try PlatformRegistry.parse(
            text: """
                version: 1
                name: conformance
                root: \(dir.file("p").path)
                sandbox: embedded
                targets: [\(key)]
                \(accounts)
                """, file: "conformance.yaml", baseDirectory: dir.url)
        await EmbeddedSandbox.wire(&config, to: s)
        await s.state.setFaults(faults)
        let account = try #require(config.accounts[key])
        let store = MemoryTokenStore()
        var settings = AdapterSettings(
            account: account, tokens: TokenProvider(account: account, http: http, store: store), http: http, uploads: TestTLS.uploads(beside: http),
            chunkSize: fixture.chunkSize, maxAttempts: 10, requestTimeout: .seconds(60),
            backoff: Backoff(base: .milliseconds(10), cap: .milliseconds(50)))
        if d.sandboxTLS { settings.tls = TestTLS.configuration }
        if let s3 = config.mediaHost?.s3 { settings.mediaHost = MediaHost(bucket: S3Bucket(s3, http: settings.uploads), linkTTL: 600) }
        try FileManager.default.createDirectory(at: dir.file("work"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.file("posted"), withIntermediateDirectories: true)
        // A folder target's share exists before the daemon copies into it (a pipeline makes the sandbox's).
        if d.name == "folder", let path = try account.text("path") {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        let file = dir.file("conformance.mp4")
        let n = Int(fixture.size)
        try Data((0..<n).map { i in UInt8(truncatingIfNeeded: i &* 7 &+ i / 4096) }).write(to: file)
        let digests = try FileHashing.digests(path: file.path)
        return ConformanceRig(
            fixture: fixture, dir: dir, server: s, account: account, settings: settings, store: store, file: file,
            sha256: digests.hex, xxh3: digests.xxh3)
    }
}

/// Set once: true for the first caller only.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var v = false
    /// Sets the flag; true when this call set it.
    func set() -> Bool {
        lock.withLock {
            defer { v = true }; return !v
        }
    }
    var isSet: Bool { lock.withLock { v } }
}
