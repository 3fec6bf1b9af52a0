import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

@Suite struct TikTokTests {
    static let mib: Int64 = 1_048_576

    func setUp(_ dir: TempDir, size: Int64) async throws -> (SandboxServer, TikTokAdapter, URL, MemoryTokenStore) {
        let s = SandboxServer(root: dir.file("sandbox"))
        try await s.start()
        await s.registerAccount(platform: "tiktok", name: "brand", clientID: "key", clientSecret: "sec", refreshToken: "rt-0")
        let account = AccountConfig(
            key: "tiktok:brand", platform: "tiktok", clientID: "key", clientSecret: "sec", refreshToken: "rt-0",
            endpoint: s.baseURL, tokenURL: s.baseURL + "/v2/oauth/token/")
        let store = MemoryTokenStore()
        let tokens = TokenProvider(account: account, http: HTTPClient.shared, store: store)
        let adapter = TikTokAdapter(
            account: account, tokens: tokens, http: HTTPClient.shared, chunkSize: 5 * Self.mib,
            backoff: Backoff(base: .milliseconds(10), cap: .milliseconds(50)), poll: PollPolicy(first: .milliseconds(20), max: .milliseconds(20), perMinute: 3000))
        let file = dir.file("v.bin")
        try Data((0..<Int(size)).map { UInt8(($0 * 31) % 256) }).write(to: file)
        return (s, adapter, file, store)
    }

    static let meta = PublishMetadata(title: "hello", description: "#fyp", tags: [], privacy: .private, publishAt: nil, options: [:])

    @Test func chunkArithmeticFollowsTheDocs() {
        #expect(TikTokAdapter.chunks(size: 3 * Self.mib, preferred: 10 * Self.mib) == (3 * Self.mib, 1))
        #expect(TikTokAdapter.chunks(size: 12 * Self.mib, preferred: 5 * Self.mib) == (5 * Self.mib, 2))
        #expect(TikTokAdapter.chunks(size: 25 * Self.mib, preferred: 10 * Self.mib) == (10 * Self.mib, 2))
        #expect(TikTokRoutes.checkChunks(size: 12 * Self.mib, chunk: 5 * Self.mib, count: 2) == nil)
        #expect(TikTokRoutes.checkChunks(size: 12 * Self.mib, chunk: 5 * Self.mib, count: 3) != nil)
        #expect(TikTokRoutes.checkChunks(size: 12 * Self.mib, chunk: 1 * Self.mib, count: 12) != nil)
        #expect(TikTokRoutes.checkChunks(size: 2 * Self.mib, chunk: 2 * Self.mib, count: 1) == nil)
    }

    @Test func orderedChunksThenPublishComplete() async throws {
        let dir = try TempDir()
        let (s, adapter, file, store) = try await setUp(dir, size: 12 * Self.mib + 12345)
        try await stopping(s) {
            let cps = CheckpointLog()
            let out = try await adapter.deliver(
                UploadJob(
                    deliveryId: 1, filePath: file.path, size: 12 * Self.mib + 12345, metadata: Self.meta,
                    session: nil, confirmedOffset: 0), checkpoint: { cps.add($0) }, progress: { _, _ in })
            let videos = await s.state.allVideos()
            #expect(videos.count == 1 && videos[0].platform == "tiktok")
            #expect(videos[0].sha256 == (try FileHashing.sha256(path: file.path)).hex)
            #expect(videos[0].privacy == "SELF_ONLY" && videos[0].title == "hello\n#fyp")
            #expect(out.remoteId == videos[0].id)
            #expect(cps.all.map(\.confirmedOffset) == [0, 5 * Self.mib, 12 * Self.mib + 12345])
            #expect(await s.state.requestCounts["tiktok.put"] == 2)
            // Rotation: the refresh token in the store is the newest one the platform issued.
            #expect(store.refreshToken?.hasPrefix("rft.") == true)
        }
    }

    @Test func privacyTheCreatorCannotUseAndUnlistedAreRefused() async throws {
        var m = Self.meta
        m.privacy = .unlisted
        let dir = try TempDir()
        let (s, adapter, _, _) = try await setUp(dir, size: 1)
        try await stopping(s) {
            #expect(adapter.preflight(m)?.code == .invalidValue)
            m.privacy = .public
            #expect(adapter.preflight(m) == nil)
            m.options["privacy_level"] = "EVERYONE"
            #expect(adapter.preflight(m)?.code == .invalidValue)
        }
    }

    @Test func pipelinePublishesToYouTubeAndTikTok() async throws {
        let dir = try TempDir()
        try await TestPipelines.publishOnce(
            dir, targets: "youtube:main, tiktok:brand", clip: try Clips.make(width: 540, height: 960, seconds: 3.3), stem: "both",
            sidecar: "title: both\nprivacy: public\ncover: {at_ms: 1000}\noverrides: {tiktok: {disable_duet: true}}\n"
        ) { p, _ in
            let videos = await p.sandbox!.state.allVideos()
            #expect(Set(videos.map(\.platform)) == ["youtube", "tiktok"])
            #expect(videos.first { $0.platform == "tiktok" }?.privacy == "PUBLIC_TO_EVERYONE")
            #expect(Set(videos.map(\.sha256)).count == 1)
        }
    }
}
