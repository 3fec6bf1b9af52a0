import AsyncHTTPClient
import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Adapters whose upload's bytes go on `AdapterSettings.uploads` (through `parts`, or a request of their
/// own), each against its sandbox with the `redirect_chunks` fault: the upload request is answered
/// `307` to a second listener. Not followed (nothing reaches it: no bytes, no token), classified as one
/// retryable failure, sent again to its own URL — and the delivery completes with one post of the file.
@Suite(.serialized) struct UploadRedirectAdapterTests {
    static let meta = PublishMetadata(title: "hello", description: "", tags: [], privacy: .public, publishAt: nil, options: [:])

    /// TikTok's chunk PUT goes through `settings.parts` (the engine's chunk loop).
    @Test(.timeLimit(.minutes(2))) func aTikTokChunkRedirectedOnceIsSentAgainToItsOwnURL() async throws {
        let dir = try TempDir()
        let elsewhere = try CountingListener()
        let rig = try await PlatformRig.make(
            TikTokPlatform.self, dir, size: 200_000, faults: .init(redirectChunks: ["http://127.0.0.1:\(elsewhere.port)/tiktok/upload/moved?sig=secret"]))
        try await stopping(rig.server) {
            let out = try await rig.deliver(Self.meta)
            #expect(!out.remoteId.isEmpty)
            #expect(await rig.state.faults.redirectChunks.isEmpty, "the chunk PUT met the redirect")
            // The redirected PUT, then the same chunk at its own URL: two, and one video of the file's bytes.
            #expect(await rig.state.requestCounts["tiktok.put"] == 2)
            let sha = try FileHashing.sha256(path: rig.file.path).hex
            #expect(await rig.state.postCount(sha256: sha) == 1)
            #expect(elsewhere.connections == 0, "the chunk (its bytes) went to the redirect's host")
        }
    }

    /// YouTube's `308 Resume Incomplete` naming a `Location` is its protocol's answer, not a redirect: the
    /// session goes on at that URI (as Google's clients take it), the next parts are sent there, the
    /// checkpoint keeps it, and the upload completes once — not refused as a redirect.
    @Test(.timeLimit(.minutes(2))) func aYouTubeResumeIncompleteNamingANewSessionURIMovesTheSessionThere() async throws {
        let dir = try TempDir()
        var faults = SandboxState.Faults()
        faults.youtubeMoveSessions = 1
        let rig = try await PlatformRig.make(YouTubePlatform.self, dir, size: 1_000_000, faults: faults, chunkSize: 262_144)
        try await stopping(rig.server) {
            let saved = CheckpointLog()
            let out = try await rig.deliver(Self.meta) { saved.add($0) }
            #expect(!out.remoteId.isEmpty)
            #expect(await rig.state.faults.youtubeMoveSessions == 0, "no 308 named a new URI")
            // Four parts of 256 KiB: the first's 308 named the new URI, the other three went there.
            #expect(await rig.state.requestCounts["youtube.put"] == 4)
            #expect(await rig.state.requestCounts["youtube.put.moved"] == 3)
            #expect(saved.last?.session.contains("moved=1") == true, "the checkpoint kept the old URI")
            let sha = try FileHashing.sha256(path: rig.file.path).hex
            #expect(await rig.state.postCount(sha256: sha) == 1)
        }
    }

    /// Bluesky's `uploadVideo` streams the file on `settings.uploads` (BlueskyXRPC, a `.file` body).
    @Test(.timeLimit(.minutes(2))) func aBlueskyVideoUploadRedirectedOnceIsSentAgainToTheVideoService() async throws {
        let dir = try TempDir()
        let elsewhere = try CountingListener()
        let (s, a, f) = try await BlueskyTests.rig(dir)
        try await stopping(s) {
            await s.state.setFaults(.init(processingMs: 100, redirectChunks: ["http://127.0.0.1:\(elsewhere.port)/xrpc/app.bsky.video.uploadVideo"]))
            let job = try BlueskyTests.job(f)
            let out = try await a.deliver(job, checkpoint: { _ in }, progress: { _, _ in })
            #expect(out.remoteId.hasPrefix("at://"))
            #expect(await s.state.faults.redirectChunks.isEmpty, "the upload met the redirect")
            #expect(await s.state.requestCounts["bluesky.uploadVideo"] == 2)
            #expect(await s.state.postCount(sha256: try #require(job.expectedSha256)) == 1)
            #expect(elsewhere.connections == 0, "the video (and its service token) went to the redirect's host")
        }
    }

    /// Reddit's media host POST (the leased S3 form, over HTTPS) goes on `settings.uploads`.
    @Test(.timeLimit(.minutes(2))) func aRedditMediaPostRedirectedOnceIsLeasedAndSentAgain() async throws {
        let dir = try TempDir()
        let elsewhere = try CountingListener()
        let reddit = RedditTests()
        let rig = try await reddit.setUp(dir, faults: .init(processingMs: 100, redirectChunks: ["http://127.0.0.1:\(elsewhere.port)/reddit-media"]))
        try await stopping(rig.server) {
            let job = try reddit.job(rig, dir)
            _ = try await reddit.deliver(rig, job)
            #expect(await rig.state.faults.redirectChunks.isEmpty, "the media POST met the redirect")
            // The video's POST twice (redirected, then sent again), the poster's once.
            #expect(await rig.state.requestCounts["reddit.media"] == 3)
            #expect(await rig.state.postCount(sha256: try #require(job.expectedSha256)) == 1)
            #expect(elsewhere.connections == 0, "the video went to the redirect's host")
        }
    }

    /// A `303` to the upload: AsyncHTTPClient's following client would turn the POST into a GET without
    /// its body and follow it (the listener would count it); on `uploads` it is one `rejected_by_platform`
    /// naming where it pointed, and nothing reaches there.
    @Test(.timeLimit(.minutes(2))) func aBlueskyOrRedditUploadAnswered303IsNotFollowedAndFailsAsRejected() async throws {
        let elsewhere = try CountingListener()
        let to = "http://127.0.0.1:\(elsewhere.port)/moved"
        let bluesky = try TempDir()
        let (s, a, f) = try await BlueskyTests.rig(bluesky)
        try await stopping(s) {
            await s.state.setFaults(.init(processingMs: 100, redirectChunks: ["303 " + to]))
            let e = await #expect(throws: DeliveryError.self) { _ = try await a.deliver(try BlueskyTests.job(f), checkpoint: { _ in }, progress: { _, _ in }) }
            #expect(e?.code == .rejectedByPlatform && e?.kind == .permanent && e?.httpStatus == 303, "\(String(describing: e))")
            #expect(e?.message.contains("Bluesky answered HTTP 303") == true && e?.message.contains("redirecting it to \(to)") == true, "\(String(describing: e))")
        }
        let redditDir = try TempDir()
        let reddit = RedditTests()
        let rig = try await reddit.setUp(redditDir, faults: .init(processingMs: 100, redirectChunks: ["303 " + to]))
        try await stopping(rig.server) {
            let e = await #expect(throws: DeliveryError.self) { _ = try await reddit.deliver(rig, try reddit.job(rig, redditDir)) }
            #expect(e?.code == .rejectedByPlatform && e?.kind == .permanent && e?.httpStatus == 303, "\(String(describing: e))")
            #expect(await rig.state.allVideos().isEmpty)
        }
        #expect(elsewhere.connections == 0, "an upload's redirect was followed")
    }
}
