import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostEmbedded
@testable import OmniPostPipeline
@testable import OmniPostSandbox
import ServiceLifecycle
import Testing

/// The sandbox is wired in from the top: the pipeline reaches it only through the `PlatformEmbedding` it
/// is handed, each sandbox platform takes its own credentials and keeps its own state, and what a
/// persistent sandbox keeps comes back after a restart for every platform that keeps something.
@Suite struct EmbeddedSandboxTests {
    /// A program built without the sandbox cannot run a pipeline that needs it, and says why.
    @Test func aPipelineInSandboxModeWithoutAnEmbeddingIsRefusedWithItsReason() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]")
        let e = await #expect(throws: OmniError.self) { _ = try await Pipeline.open(config: config, logger: TestPipelines.logger) }
        #expect(e?.code == .configInvalid && e?.message.contains("sandbox: embedded") == true, "\(e?.message ?? "")")
        let check = await #expect(throws: OmniError.self) { _ = try await AccountHealth.check(config: config, http: HTTPClient.shared) }
        #expect(check?.code == .configInvalid)
    }

    /// In the daemon the embedding is a service after which the supervisor runs: a graceful shutdown stops
    /// the pipelines first, then the sandboxes it started — nothing listens on their port afterwards.
    @Test(.timeLimit(.minutes(2))) func theEmbeddingStopsItsSandboxesAtShutdown() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main, vimeo:main]")
        let embedding = EmbeddedSandbox()
        let p = try await Pipeline.open(config: config, logger: TestPipelines.logger, embedding: embedding)
        let server = try #require(p.sandbox)
        // Its accounts point at the sandbox, and what Vimeo's account brings (its lasting token) was granted there.
        let vimeo = try #require(p.context.config.accounts["vimeo:main"])
        #expect(vimeo.endpoint == server.baseURL)
        let token = try #require(try vimeo.text("access_token"))
        #expect(await server.state.account(forBearer: "Bearer " + token) == "vimeo:main")
        let identity = HTTPClientRequest(url: server.baseURL + "/sandbox/identity")
        #expect(try await HTTPClient.shared.execute(identity, timeout: .seconds(5)).status == .ok)

        let group = ServiceGroup(configuration: .init(services: [embedding], logger: TestPipelines.logger))
        let running = Task { try await group.run() }
        await group.triggerGracefulShutdown()
        try await running.value
        await #expect(throws: (any Error).self) { _ = try await HTTPClient.shared.execute(identity, timeout: .seconds(5)) }
        await p.close()
    }

    /// Each platform takes what an account brings by the names its settings give them; a platform the
    /// sandbox does not have takes nothing (and nothing fails).
    @Test func grantsReachTheirPlatformsSandbox() async throws {
        let dir = try TempDir()
        let s = SandboxServer(root: dir.file("sandbox"))
        await s.grant(platform: "s3", account: "s3:archive", ["access_key_id": "AKID", "secret_access_key": "shh"])
        await s.grant(platform: "webhook", account: "webhook:ops", ["secret": "whsec"])
        await s.grant(platform: "bluesky", account: "bluesky:studio", ["handle": "studio.sandbox.test", "app_password": "abcd-efgh-ijkl-mnop"])
        await s.grant(platform: "nowhere", account: "nowhere:x", ["key": "v"])
        #expect(await s.state.s3Keys == ["AKID": "shh"])
        #expect(await s.state.webhookSecrets == ["ops": "whsec"])
        #expect(await s.state.bskyLogin("studio.sandbox.test", "abcd-efgh-ijkl-mnop")?.key == "bluesky:studio")
    }

    /// Every kept world (YouTube's sessions, tus uploads, Vimeo's videos) comes back from the snapshot with
    /// the shared state; a world not kept (X's media) starts afresh.
    @Test func aPersistentSandboxBringsBackEveryKeptWorld() async throws {
        let dir = try TempDir()
        let root = dir.file("sandbox")
        let first = SandboxState(root: root, persistent: true)
        await first.register(.init(platform: "youtube", name: "main", clientID: "cid", clientSecret: "cs", refreshToken: "rt-1"))
        let session = SandboxState.UploadSession(
            id: "yt-session", account: "youtube:main", total: 10, received: 4, file: root.appendingPathComponent("yt").path,
            metadata: YouTubeVideoMetadata(snippet: .init(title: "kept"), status: nil), created: Date(), videoID: nil)
        await first.putSession(session)
        let upload = try await first.createTusUpload(length: 100, metadata: ["filename": "a.mp4"])
        let video = try await first.createVimeoVideo(account: "vimeo:main", name: "clip", description: "", privacy: "anybody", size: 50)
        let media = try await first.startXUpload(account: "x:main", mediaType: "video/mp4", category: "tweet_video", total: 10)

        let again = SandboxState(root: root, persistent: true)
        #expect(await again.session("yt-session")?.metadata.snippet?.title == "kept")
        #expect(await again.tusUpload(upload.id)?.length == 100)
        #expect(await again.vimeoVideo(video.id)?.name == "clip")
        #expect(await again.tusUpload(video.uploadID) != nil)
        #expect(await again.xMedia[media.id] == nil)
        #expect(await again.accounts["rt-1"]?.name == "main")
    }
}
