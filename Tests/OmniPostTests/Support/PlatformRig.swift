import AsyncHTTPClient
import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox

/// One platform's adapter against its sandbox, with a file to send: what each platform's tests start from.
struct PlatformRig {
    var server: SandboxServer
    var adapter: any PlatformAdapter
    var file: URL
    var size: Int64
    var store: MemoryTokenStore
    var state: SandboxState { server.state }

    func job(_ meta: PublishMetadata, session: String? = nil, offset: Int64 = 0) -> UploadJob {
        UploadJob(deliveryId: 1, filePath: file.path, size: size, metadata: meta, session: session, confirmedOffset: offset)
    }

    func deliver(
        _ meta: PublishMetadata, session: String? = nil, offset: Int64 = 0,
        checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void = { _ in }
    ) async throws -> PublishOutcome {
        try await adapter.deliver(job(meta, session: session, offset: offset), checkpoint: checkpoint, progress: { _, _ in })
    }

    /// A sandbox with one account of `module`'s platform (`<platform>:brand`), its adapter made as the
    /// registry makes it (fast backoff), and `size` bytes of a pattern in a file.
    static func make(
        _ module: any PlatformModule.Type, _ dir: TempDir, size: Int64, faults: SandboxState.Faults = .init(),
        chunkSize: Int64 = 4 * 1_048_576,
        adapter make: ((AdapterSettings) -> any PlatformAdapter)? = nil
    ) async throws -> PlatformRig {
        let d = module.descriptor
        let s = SandboxServer(root: dir.file("sandbox"))
        // A platform whose sandbox serves HTTPS (Reddit's media host) gets the run's certificate, and a client that trusts it.
        if d.sandboxTLS { try TestTLS.seed(dir.file("sandbox")) }
        try await s.start(tls: d.sandboxTLS)
        let http = d.sandboxTLS ? TestTLS.client : HTTPClient.shared
        await s.state.setFaults(faults)
        await s.registerAccount(platform: d.name, name: "brand", clientID: "cid", clientSecret: "csecret", refreshToken: "rt-0")
        let account = AccountConfig(
            key: "\(d.name):brand", platform: d.name, clientID: "cid", clientSecret: "csecret", refreshToken: "rt-0",
            endpoint: s.baseURL, tokenURL: s.baseURL + d.sandboxTokenPath)
        let store = MemoryTokenStore()
        var settings = AdapterSettings(
            account: account, tokens: TokenProvider(account: account, http: http, store: store),
            http: http, uploads: TestTLS.uploads(beside: http), chunkSize: chunkSize, backoff: Backoff(base: .milliseconds(10), cap: .milliseconds(50)))
        if d.sandboxTLS { settings.tls = TestTLS.configuration }
        let file = dir.file("v.bin")
        let bytes: [UInt8] = (0..<Int(size)).map { i in UInt8(truncatingIfNeeded: i &* 7 &+ i / 4096) }
        try Data(bytes).write(to: file)
        return PlatformRig(server: s, adapter: make?(settings) ?? module.makeAdapter(settings), file: file, size: size, store: store)
    }
}

/// Whether a wait a platform asked for (`Retry-After`, a reset time) is `seconds` after the request,
/// judged from before the request (`t0`) to after its answer (`t1`): a busy machine's slowness in
/// between is not the adapter's error. Reset times in whole seconds get `slack`.
func waitIsAbout(_ at: Date, _ seconds: Double, from t0: Date, to t1: Date, slack: Double = 1.5) -> Bool {
    at >= t0.addingTimeInterval(seconds - slack) && at <= t1.addingTimeInterval(seconds + slack)
}
