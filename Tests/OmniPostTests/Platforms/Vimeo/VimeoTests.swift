import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Vimeo through its sandbox: the video made with approach tus, bytes by tus, tags; a cut resumed from
/// the tus server's offset; an uncertain last PATCH settled by the video's upload status; a revoked
/// token, a rate limit and a deleted video classified — and Vimeo's own library against the sandbox.
@Suite struct VimeoTests {
    static let meta = PublishMetadata(title: "A walk", description: "by the sea", tags: ["sea", "walk"], privacy: .unlisted, publishAt: nil, options: [:])
    static let token = "sandbox-vimeo-token-abcdef"

    static func rig(_ dir: TempDir, size: Int, chunk: Int64 = 1 << 20) async throws -> (SandboxServer, any PlatformAdapter, URL) {
        let s = SandboxServer(root: dir.file("sandbox"))
        try await s.start()
        await s.state.registerStaticToken(token, account: "vimeo:brand")
        let text = "version: 1\nroot: \(dir.url.path)/p\nsandbox: none\ntargets: [vimeo:brand]\naccounts:\n  vimeo:brand: {endpoint: \"\(s.baseURL)\", access_token: \(token)}\n"
        let config = try PlatformRegistry.parse(text: text, file: "p.yaml", baseDirectory: dir.url)
        let account = try #require(config.accounts["vimeo:brand"])
        let settings = AdapterSettings(
            account: account, tokens: TokenProvider(account: account, http: HTTPClient.shared, store: MemoryTokenStore()),
            http: HTTPClient.shared, chunkSize: chunk, backoff: Backoff(base: .milliseconds(10), cap: .milliseconds(50)))
        let f = dir.file("walk.mp4")
        try Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ $0 >> 13) }).write(to: f)
        return (s, PlatformRegistry.makeAdapter(platform: "vimeo", settings: settings)!, f)
    }

    static func job(_ f: URL, session: String? = nil, offset: Int64 = 0) throws -> UploadJob {
        let size = try #require(try FileManager.default.attributesOfItem(atPath: f.path)[.size] as? Int64)
        var j = UploadJob(deliveryId: 1, filePath: f.path, size: size, metadata: meta, session: session, confirmedOffset: offset)
        j.expectedSha256 = try FileHashing.sha256(path: f.path).hex
        return j
    }

    @Test func aGoodPostCarriesItsWordsAndTags() async throws {
        let dir = try TempDir()
        let (s, a, f) = try await Self.rig(dir, size: 2 << 20 + 3)
        try await stopping(s) {
            let out = try await a.deliver(try Self.job(f), checkpoint: { _ in }, progress: { _, _ in })
            let v = try #require(await s.state.allVideos().first)
            let want = try Self.job(f).expectedSha256
            #expect(v.platform == "vimeo" && v.id == out.remoteId && v.sha256 == want)
            #expect(v.title == "A walk" && v.description == "by the sea" && v.privacy == "unlisted" && v.tags == ["sea", "walk"])
            #expect(out.url == s.baseURL + "/vimeo/\(out.remoteId)")
            #expect(
                a.preflight(PublishMetadata(title: String(repeating: "x", count: 129), description: "", tags: [], privacy: .public, publishAt: nil, options: [:]))?.code
                    == .textTooLong)
        }
    }

    /// A cover from a file becomes the video's thumbnail (picture made, image PUT, made active); one that
    /// is not an image is refused by Vimeo and noted on the outcome, the video published all the same.
    @Test func aCoverFileBecomesTheThumbnail() async throws {
        let dir = try TempDir()
        let (s, a, f) = try await Self.rig(dir, size: 300_000)
        try await stopping(s) {
            let cover = dir.file("cover.jpg")
            try Clips.run("ffmpeg", ["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180", "-frames:v", "1", cover.path])
            var job = try Self.job(f)
            job.coverPath = cover.path
            let out = try await a.deliver(job, checkpoint: { _ in }, progress: { _, _ in })
            #expect(out.coverSet == true, "\(out.coverError ?? "")")
            let v = try #require(await s.state.allVideos().first { $0.id == out.remoteId })
            #expect(v.thumbnailSha256 == (try FileHashing.sha256(path: cover.path)).hex)

            let notAnImage = dir.file("cover.png")
            try Data("not a picture".utf8).write(to: notAnImage)
            job = try Self.job(f)
            job.coverPath = notAnImage.path
            let second = try await a.deliver(job, checkpoint: { _ in }, progress: { _, _ in })
            #expect(second.coverSet == false && second.coverError?.contains("not a JPEG, PNG or GIF") == true, "\(second.coverError ?? "")")
            #expect(await s.state.allVideos().contains { $0.id == second.remoteId })
        }
    }

    @Test func aDeletedVideoIsMadeAgainAndARevokedTokenAsksForANewOne() async throws {
        let dir = try TempDir()
        let (s, a, f) = try await Self.rig(dir, size: 100_000)
        try await stopping(s) {
            // A video deleted on Vimeo while its delivery was interrupted: a new one is made.
            let seen = CheckpointLog()
            await #expect(throws: CancellationError.self) {
                _ = try await a.deliver(
                    try Self.job(f),
                    checkpoint: { cp in
                        seen.add(cp)
                        if cp.session.contains(#""uri""#) { throw CancellationError() }
                    }, progress: { _, _ in })
            }
            let session = try #require(seen.all.last?.session)
            let uri = try #require(try JSONDecoder().decode(VimeoAdapter.Session.self, from: Data(session.utf8)).uri)
            await s.state.deleteVimeoVideo(String(uri.split(separator: "/").last!))
            let fresh = try await a.deliver(try Self.job(f, session: session), checkpoint: { _ in }, progress: { _, _ in })
            #expect("/videos/\(fresh.remoteId)" != uri && fresh.bytesSent == 100_000)
            // A revoked token: Vimeo's tokens are not refreshed, so a person must make a new one.
            await s.state.revoke(account: "vimeo:brand")
            let e2 = await #expect(throws: DeliveryError.self) { _ = try await a.deliver(try Self.job(f), checkpoint: { _ in }, progress: { _, _ in }) }
            #expect(e2?.kind == .reauthenticate && e2?.message.contains("make a new one") == true)
        }
    }

    static func fastAdapter(_ a: any PlatformAdapter, timeout: Duration = .seconds(120)) -> VimeoAdapter {
        var settings = (a as! VimeoAdapter).settings
        settings.requestTimeout = timeout
        return VimeoAdapter(settings, poll: PollPolicy(first: .milliseconds(20), max: .milliseconds(50), perMinute: 6000), transcodeTimeout: .seconds(20))
    }

    /// The transcode is part of the post: waited for while `in_progress`, and a video Vimeo could not
    /// transcode (`transcode.status: error`) is no post, however whole its upload.
    @Test func aVideoIsPublishedOnlyOnceVimeoTranscodedIt() async throws {
        let dir = try TempDir()
        let (s, plain, f) = try await Self.rig(dir, size: 200_000)
        try await stopping(s) {
            let a = Self.fastAdapter(plain)
            await s.state.setFaults(.init(processingMs: 300))
            let out = try await a.deliver(try Self.job(f), checkpoint: { _ in }, progress: { _, _ in })
            let reads = await s.state.requestCounts["vimeo.get"] ?? 0
            let video = try await RawHTTP.send(s.baseURL + "/videos/\(out.remoteId)", .GET, headers: ["Authorization": "Bearer \(Self.token)"])
            let json = try #require(try JSONSerialization.jsonObject(with: video.body) as? [String: Any])
            #expect(reads >= 2 && (json["transcode"] as? [String: String])?["status"] == "complete" && json["status"] as? String == "available", "\(reads) \(json)")
            // A restart that finds the upload whole asks the transcode again, never reports the post.
            let seen = CheckpointLog()
            await s.state.setFaults(.init(failProcessing: "corrupt stream"))
            let f3 = dir.file("broken-again.mp4")
            try Data(repeating: 8, count: 50_000).write(to: f3)
            await #expect(throws: CancellationError.self) {
                _ = try await a.deliver(
                    try Self.job(f3),
                    checkpoint: { cp in
                        seen.add(cp)
                        if cp.confirmedOffset == 50_000 { throw CancellationError() }
                    }, progress: { _, _ in })
            }
            let e2 = await #expect(throws: DeliveryError.self) {
                _ = try await a.deliver(try Self.job(f3, session: seen.all.last?.session), checkpoint: { _ in }, progress: { _, _ in })
            }
            let posts = await s.state.allVideos().count
            #expect(e2?.code == .rejectedByPlatform && posts == 1)
        }
    }

    /// Tags are part of the post: a 5xx is tried again, a 429 defers the delivery (not published), and the
    /// next attempt — which finds the upload whole — sets them before the post is reported.
    @Test func tagsRefusedForNowAreSentAgainByTheNextAttempt() async throws {
        let dir = try TempDir()
        let (s, plain, f) = try await Self.rig(dir, size: 120_000)
        try await stopping(s) {
            let a = Self.fastAdapter(plain)
            await s.state.setFaults(.init(failFollowUps: [503, 429]))
            let seen = CheckpointLog()
            let e = await #expect(throws: DeliveryError.self) {
                _ = try await a.deliver(try Self.job(f), checkpoint: { cp in seen.add(cp) }, progress: { _, _ in })
            }
            guard case .retryAt = e?.kind else { Issue.record("expected a wait: \(String(describing: e))"); return }
            #expect(e?.code == .rateLimited)
            let untagged = await s.state.allVideos().first?.tags
            #expect(untagged == [])
            let out = try await a.deliver(
                try Self.job(f, session: seen.all.last?.session, offset: seen.all.last?.confirmedOffset ?? 0), checkpoint: { _ in }, progress: { _, _ in })
            let v = try #require(await s.state.allVideos().first)
            let made = await s.state.vimeoVideoCount(), puts = await s.state.requestCounts["vimeo.tags"]
            #expect(out.reconciled && out.bytesSent == 0 && v.tags == ["sea", "walk"] && made == 1 && puts == 3)
            // Tags already on the video are read, not sent again.
            _ = try await a.deliver(try Self.job(f, session: seen.all.last?.session), checkpoint: { _ in }, progress: { _, _ in })
            let puts2 = await s.state.requestCounts["vimeo.tags"]
            #expect(puts2 == 3)
            // More tags than one request takes are refused at validation, never dropped unseen.
            let many = PublishMetadata(title: "t", description: "", tags: (0..<21).map { "t\($0)" }, privacy: .public, publishAt: nil, options: [:])
            #expect(a.preflight(many)?.code == .invalidValue)
        }
    }

    /// A create whose answer was lost: the next attempt finds the video among the account's and uploads
    /// into it — no second video is made.
    @Test func aLostCreateAnswerIsFoundByListingNotMadeTwice() async throws {
        let dir = try TempDir()
        let (s, plain, f) = try await Self.rig(dir, size: 150_000)
        try await stopping(s) {
            let a = Self.fastAdapter(plain, timeout: .seconds(1))
            await s.state.setFaults(.init(finalReplyDelayMs: 2500))
            let seen = CheckpointLog()
            let e = await #expect(throws: DeliveryError.self) {
                _ = try await a.deliver(try Self.job(f), checkpoint: { cp in seen.add(cp) }, progress: { _, _ in })
            }
            #expect(e?.code == .networkError && e?.kind == .retryNow)
            let session = try #require(seen.all.last?.session)
            #expect(!session.contains(#""uri""#), "the create's answer never came: \(session)")
            await s.state.setFaults(.init())
            // The next attempts wait as long as a loaded machine needs: only the first had to lose its answer
            // (a 1 s limit here failed a clean-clone run at load 6 with deadlineExceeded).
            let patient = Self.fastAdapter(plain, timeout: .seconds(20))
            let out = try await patient.deliver(try Self.job(f, session: session), checkpoint: { _ in }, progress: { _, _ in })
            let creates = await s.state.requestCounts["vimeo.create"], made = await s.state.vimeoVideoCount(), lists = await s.state.requestCounts["vimeo.list"]
            #expect(creates == 1 && made == 1 && lists == 1 && out.bytesSent == 150_000)
            #expect(await s.state.postCount(sha256: try #require(try Self.job(f).expectedSha256)) == 1)
            // A create that never reached Vimeo (nothing listed): made then, once.
            let f2 = dir.file("second.mp4")
            try Data(repeating: 3, count: 90_000).write(to: f2)
            let never = #"{"created":\#(Date().timeIntervalSinceReferenceDate)}"#
            let second = try await patient.deliver(try Self.job(f2, session: never), checkpoint: { _ in }, progress: { _, _ in })
            let creates2 = await s.state.requestCounts["vimeo.create"]
            #expect(creates2 == 2 && second.bytesSent == 90_000 && second.remoteId != out.remoteId)
        }
    }

    /// PyVimeo, Vimeo's own library, uploads to the sandbox unchanged (its API root pointed at it).
    @Test(.enabled(if: PythonServer.has("vimeo") && PythonServer.has("tusclient")), .timeLimit(.minutes(3)))
    func vimeosOwnLibraryUploadsToTheSandbox() async throws {
        let dir = try TempDir()
        let (s, _, f) = try await Self.rig(dir, size: 2 << 20 + 100)
        try await stopping(s) {
            let script = PipelineConfigTests.repoRoot.appendingPathComponent("Tests/clients/vimeo_official_client.py").path
            let cover = dir.file("cover.jpg")
            try Clips.run("ffmpeg", ["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180", "-frames:v", "1", cover.path])
            let r = try await offPool { try SandboxOfficialClientTests.run(script, [s.baseURL, Self.token, f.path, cover.path]) }
            #expect(r["status"] as? String == "complete" && r["name"] as? String == "from PyVimeo" && r["privacy"] as? String == "unlisted", "\(r.value)")
            #expect((r["uri"] as? String)?.hasPrefix("/videos/") == true)
            #expect(r["refused"] as? String == "You must provide a valid authenticated access token.", "\(r.value)")
            #expect(await s.state.postCount(sha256: try #require(try Self.job(f).expectedSha256)) == 1)
            // Its thumbnail, set by the library's own `upload_picture`.
            #expect((r["picture"] as? String)?.contains("/pictures/") == true, "\(r.value)")
            let uploaded = try #require(await s.state.allVideos().first { "/videos/\($0.id)" == r["uri"] as? String })
            #expect(uploaded.thumbnailSha256 == (try FileHashing.sha256(path: cover.path)).hex)
        }
    }

    @Test(.timeLimit(.minutes(3))) func aPipelineInSandboxModePostsToVimeo() async throws {
        let dir = try TempDir()
        try await TestPipelines.publishOnce(dir, targets: "youtube:main, vimeo:main", sidecar: "title: a walk\nprivacy: public\n") { p, _ in
            #expect(await p.sandbox!.state.allVideos().contains { $0.platform == "vimeo" && $0.privacy == "anybody" })
        }
    }
}
