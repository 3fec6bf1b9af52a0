import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPlatforms
import OmniPostSandbox
import Testing

/// An upload interrupted part-way resumes from the offset the server reports, re-sending less than a chunk.
@Suite struct UploadResumeTests {
    actor MemoryTokens: TokenStore {
        private var v: [String: (String?, Date?, String?)] = [:]
        func load(account: String) async throws -> (accessToken: String?, expiresAt: Date?, refreshToken: String?) {
            let x = v[account]
            return (x?.0, x?.1, x?.2)
        }
        func save(account: String, accessToken: String, expiresAt: Date, refreshToken: String?) async throws {
            v[account] = (accessToken, expiresAt, refreshToken)
        }
    }

    final class Checkpoints: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [UploadCheckpoint] = []
        func add(_ c: UploadCheckpoint) { lock.lock(); items.append(c); lock.unlock() }
        var all: [UploadCheckpoint] { lock.lock(); defer { lock.unlock() }; return items }
    }

    static let chunk: Int64 = 262_144

    func setUp(_ dir: TempDir, maxAttempts: Int = 10) async throws -> (SandboxServer, YouTubeAdapter, URL, Int64) {
        let s = SandboxServer(root: dir.file("sandbox"))
        try await s.start()
        await s.registerAccount(platform: "youtube", name: "main", clientID: "c", clientSecret: "s", refreshToken: "r")
        let account = AccountConfig(key: "youtube:main", platform: "youtube", clientID: "c", clientSecret: "s", refreshToken: "r",
                                    endpoint: s.baseURL, tokenURL: s.baseURL + "/token")
        let tokens = TokenProvider(account: account, http: HTTPClient.shared, store: MemoryTokens())
        let adapter = YouTubeAdapter(account: account, tokens: tokens, http: HTTPClient.shared, chunkSize: Self.chunk,
                                     maxAttempts: maxAttempts, backoff: Backoff(base: .milliseconds(10), cap: .milliseconds(50)))
        // 5.5 chunks of deterministic bytes.
        let file = dir.file("payload.bin")
        let size = Self.chunk * 5 + Self.chunk / 2
        try Data((0..<Int(size)).map { UInt8(($0 * 7) % 256) }).write(to: file)
        return (s, adapter, file, size)
    }

    static let meta = PublishMetadata(title: "t", description: "", tags: [], privacy: .private, publishAt: nil, options: [:])

    @Test func connectionCutMidChunkResumesFromServerOffset() async throws {
        let dir = try TempDir()
        let (s, adapter, file, size) = try await setUp(dir)
        try await stopping(s) {
            // The connection drops 100 KiB into the third chunk: the server keeps what it got.
            let cutAt = Self.chunk * 2 + 100 * 1024
            await s.state.setFaults(.init(youtubeCutAfterBytes: cutAt))
            let cps = Checkpoints()
            let job = UploadJob(deliveryId: 1, filePath: file.path, size: size, metadata: Self.meta, session: nil, confirmedOffset: 0)
            let out = try await adapter.deliver(job, checkpoint: { cps.add($0) }, progress: { _, _ in })

            let videos = await s.state.allVideos()
            #expect(videos.count == 1)
            #expect(videos[0].sha256 == (try FileHashing.sha256(path: file.path)).hex)
            #expect(out.remoteId == videos[0].id)
            // What crossed the wire beyond the file itself is less than one chunk.
            let received = await s.state.bytesReceived
            let resent = received - size
            #expect(resent > 0 && resent < Self.chunk, "re-sent \(resent) bytes")
            #expect(out.bytesSent - size < Self.chunk)
            // The session was persisted before any byte, and the server's offset was taken after the cut.
            #expect(cps.all.first?.confirmedOffset == 0)
            #expect(cps.all.contains { $0.confirmedOffset == cutAt })
        }
    }

    @Test func restartWithAPersistedSessionAsksTheServerAndContinues() async throws {
        let dir = try TempDir()
        let (s, adapter, file, size) = try await setUp(dir, maxAttempts: 1)
        try await stopping(s) {
            // First process: dies (gives up) after the server stored 3 chunks and a bit.
            await s.state.setFaults(.init(youtubeCutAfterBytes: Self.chunk * 3 + 5000, youtubeFailPuts: []))
            let cps = Checkpoints()
            let job = UploadJob(deliveryId: 1, filePath: file.path, size: size, metadata: Self.meta, session: nil, confirmedOffset: 0)
            await #expect(throws: DeliveryError.self) {
                _ = try await adapter.deliver(job, checkpoint: { cps.add($0) }, progress: { _, _ in })
            }
            let session = try #require(cps.all.last?.session)
            let before = await s.state.bytesReceived
            // Second process: only the persisted session. It asks `bytes */T` and sends the rest.
            let resumed = UploadJob(deliveryId: 1, filePath: file.path, size: size, metadata: Self.meta, session: session, confirmedOffset: cps.all.last!.confirmedOffset)
            let out = try await adapter.deliver(resumed, checkpoint: { _ in }, progress: { _, _ in })
            let after = await s.state.bytesReceived
            #expect(after - before <= size - (Self.chunk * 3 + 5000) + Self.chunk)
            #expect(await s.state.allVideos().count == 1)
            #expect(out.remoteId == (await s.state.allVideos())[0].id)
            // And once more: a restart after completion finds the video, uploads nothing, posts nothing new.
            let again = try await adapter.deliver(resumed, checkpoint: { _ in }, progress: { _, _ in })
            #expect(again.remoteId == out.remoteId)
            #expect(await s.state.allVideos().count == 1)
            #expect(await s.state.bytesReceived == after)
        }
    }

    @Test func revokedRefreshTokenIsAuthRevoked() async throws {
        let dir = try TempDir()
        let (s, adapter, file, size) = try await setUp(dir)
        try await stopping(s) {
            await s.state.revoke(refreshToken: "r")
            let job = UploadJob(deliveryId: 1, filePath: file.path, size: size, metadata: Self.meta, session: nil, confirmedOffset: 0)
            let e = try await #require(throws: DeliveryError.self) {
                _ = try await adapter.deliver(job, checkpoint: { _ in }, progress: { _, _ in })
            }
            #expect(e.code == .authRevoked && e.kind == .reauthenticate)
            #expect(e.message.contains("youtube:main"))
        }
    }
}
