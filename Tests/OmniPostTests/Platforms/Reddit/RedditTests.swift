import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Reddit through its sandbox: the video and its poster leased and form-POSTed to the media host
/// (HTTPS), the submit, the result read from the asset's WebSocket; an uncertain submit found among the
/// account's posts, never submitted twice; errors inside HTTP 200s, rate windows and a dead refresh
/// token classified; PRAW, Reddit's widely used client, run against the sandbox unchanged.
@Suite struct RedditTests {
    static let meta = PublishMetadata(
        title: "Waves at dawn", description: "shot on the north beach", tags: ["sea"], privacy: .public, publishAt: nil,
        options: ["subreddit": "r/oceans", "nsfw": "false", "spoiler": "true"])

    func setUp(_ dir: TempDir, size: Int64 = 300_000, faults: SandboxState.Faults = .init(), settle: Duration = .seconds(5)) async throws -> PlatformRig {
        try await PlatformRig.make(RedditPlatform.self, dir, size: size, faults: faults) {
            RedditAdapter($0, resultTimeout: .seconds(10), settleWindow: settle, poll: PollPolicy(first: .milliseconds(20), max: .milliseconds(100), perMinute: 6000))
        }
    }

    func job(_ rig: PlatformRig, _ dir: TempDir, meta: PublishMetadata = Self.meta, session: String? = nil) throws -> UploadJob {
        let poster = dir.file("poster.jpg")
        if !FileManager.default.fileExists(atPath: poster.path) { try Data([0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 7, count: 500)).write(to: poster) }
        var j = rig.job(meta, session: session, offset: session == nil ? 0 : rig.size)
        j.coverPath = poster.path
        j.expectedSha256 = try FileHashing.sha256(path: rig.file.path).hex
        return j
    }

    func deliver(_ rig: PlatformRig, _ j: UploadJob, checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void = { _ in }) async throws -> PublishOutcome {
        try await rig.adapter.deliver(j, checkpoint: checkpoint, progress: { _, _ in })
    }

    @Test func aGoodPostGoesUpWithItsPosterAndItsResultComesOnTheWebSocket() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, faults: .init(processingMs: 150))
        try await stopping(rig.server) {
            let cps = CheckpointLog()
            let out = try await deliver(rig, try job(rig, dir), checkpoint: { cps.add($0) })
            let videos = await rig.state.allVideos()
            let sha = try FileHashing.sha256(path: rig.file.path).hex
            #expect(videos.count == 1 && videos[0].platform == "reddit" && videos[0].sha256 == sha)
            #expect(out.remoteId == videos[0].id && out.url.contains("/r/oceans/comments/\(out.remoteId)/"), "\(out)")
            let counts = await rig.state.requestCounts
            #expect(counts["reddit.media"] == 2 && counts["reddit.submit"] == 1 && counts["reddit.websocket"] == 1, "\(counts)")
            // Uploaded (both media persisted), then submitting before the submit left, then submitted.
            let phases = cps.all.compactMap { RedditAdapter.Session(persisted: $0.session)?.step.rawValue }
            #expect(phases == ["uploaded", "submitting", "submitted"])
            let post = try #require(await rig.state.redditPosts.first)
            #expect(post.subreddit == "oceans" && post.spoiler && !post.nsfw && post.title == "Waves at dawn")
        }
    }

    /// The clip swapped by its name after it was taken — for a link to a file of the very same bytes —
    /// is refused (`source_changed`) before anything is sent: the clip is opened once without following a
    /// link, checked and sent through that descriptor (`PinnedFile`), never hashed or read by its name.
    @Test func aClipSwappedByNameAfterItWasTakenIsRefusedNotHashed() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir)
        try await stopping(rig.server) {
            let j = try job(rig, dir)
            let copy = dir.file("same-bytes.mp4")
            try FileManager.default.copyItem(at: rig.file, to: copy)
            try FileManager.default.removeItem(at: rig.file)
            try FileManager.default.createSymbolicLink(at: rig.file, withDestinationURL: copy)
            let e = await #expect(throws: DeliveryError.self) { _ = try await deliver(rig, j) }
            #expect(e?.code == .sourceChanged && e?.kind == .permanent, "\(String(describing: e))")
            #expect(await rig.state.requestCounts["reddit.media"] == nil)
            #expect(await rig.state.allVideos().isEmpty)
        }
    }

    /// A poster cut after the video arrived: the poster alone goes again (a new lease), not the video.
    @Test func aPosterCutAfterTheVideoArrivedGoesAgainAlone() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir)
        try await stopping(rig.server) {
            let before = await rig.state.bytesReceived
            // The second media POST (the poster) is cut once.
            await rig.state.failNthMedia(2, status: 503)
            _ = try await deliver(rig, try job(rig, dir))
            let videoBytes = await rig.state.bytesReceived - before
            let media = await rig.state.requestCounts["reddit.media"]
            #expect(media == 3 && videoBytes < rig.size * 2, "media POSTs: \(String(describing: media)), bytes \(videoBytes)")
        }
    }

    /// A submit that never arrived, resumed from its `submitting` checkpoint: nothing shows among the
    /// account's posts within the settle window, so a person is asked — no second post. (A submit that
    /// did arrive is found: the conformance suite's uncertain window.)
    @Test func aSubmitThatNeverArrivedAsksAPersonNotASecondPost() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, faults: .init(processingMs: 400))
        try await stopping(rig.server) {
            struct Crash: Error {}
            let cps = CheckpointLog()
            await #expect(throws: Crash.self) {
                _ = try await deliver(
                    rig, try job(rig, dir),
                    checkpoint: { cp in
                        cps.add(cp)
                        if RedditAdapter.Session(persisted: cp.session)?.step == .submitted { throw Crash() }
                    })
            }
            let uncertain = try #require(cps.all.first { RedditAdapter.Session(persisted: $0.session)?.step == .submitting })
            let dir2 = try TempDir()
            let rig2 = try await setUp(dir2, settle: .milliseconds(300))
            try await stopping(rig2.server) {
                var lost = try #require(RedditAdapter.Session(persisted: uncertain.session))
                lost.username = "brand"
                lost.assetID = "nothing-like-it"
                lost.websocketURL = nil  // a submit that never arrived: its asset's socket never says anything
                lost.submittedAt = Date().timeIntervalSince1970
                let e = await #expect(throws: DeliveryError.self) { _ = try await deliver(rig2, try job(rig2, dir2, session: lost.persisted)) }
                #expect(e?.kind == .permanent && e?.code == .uncertainPost, "\(String(describing: e))")
                #expect(await rig2.state.requestCounts["reddit.submit"] == nil)
                // A person looked, found no post, and retried (`omnipost retry`): it is posted, once — a
                // retry that settled the same session again would go nowhere.
                var retried = try job(rig2, dir2, session: lost.persisted)
                retried.sessionReuse = .replaceIfFailed
                let out = try await deliver(rig2, retried)
                #expect(await rig2.state.requestCounts["reddit.submit"] == 1)
                #expect(!out.reconciled && out.replacedSession?.contains("uncertain_post") == true, "\(out)")
            }
        }
    }

    /// A submit whose answer is lost keeps listening on the asset's WebSocket: a processing failure is
    /// heard at once (not after the 10-minute settle window given here); a post found by reading the
    /// account's posts has the same address on Reddit's site as one the WebSocket confirmed.
    @Test(.timeLimit(.minutes(2))) func aLostSubmitAnswerStillHearsTheWebSocketAndPostsHaveTheSiteAddress() async throws {
        let dir = try TempDir()
        let rig = try await PlatformRig.make(
            RedditPlatform.self, dir, size: 200_000,
            faults: .init(finalReplyDelayMs: 12_000, failProcessing: "video could not be transcoded", processingMs: 200)
        ) {
            var settings = $0
            // The submit's answer comes after the client stopped waiting (4 s): lost. Wide enough that the
            // other requests answer in time on a loaded machine (1 s was not, under a full suite).
            settings.requestTimeout = .seconds(4)
            return RedditAdapter(
                settings, resultTimeout: .seconds(600), settleWindow: .seconds(600),
                poll: PollPolicy(first: .milliseconds(20), max: .milliseconds(100), perMinute: 6000))
        }
        try await stopping(rig.server) {
            let e = await #expect(throws: DeliveryError.self) { _ = try await deliver(rig, try job(rig, dir)) }
            #expect(e?.kind == .permanent && e?.code == .rejectedByPlatform && e?.message.contains("could not be transcoded") == true, "\(String(describing: e))")
            let submits = await rig.state.requestCounts["reddit.submit"], posts = await rig.state.redditPostCount()
            #expect(submits == 1 && posts == 0)
            // The same lost answer for a post that works: found by reading the account's posts (or heard), at
            // its address on www.reddit.com — as the WebSocket words a confirmed one.
            await rig.state.setFaults(.init(finalReplyDelayMs: 12_000, processingMs: 200))
            let found = try await deliver(rig, try job(rig, dir))
            #expect(found.url == "https://www.reddit.com/r/oceans/comments/\(found.remoteId)/waves_at_dawn/", "\(found.url)")
            // Found by reading only (a restart whose socket has nothing to say): the same address.
            let listed = try await (rig.adapter as! RedditAdapter).findPost(
                .init(username: "brand", subreddit: "oceans", title: "Waves at dawn", assetID: nil, submittedAt: Date().timeIntervalSince1970 - 60, step: .submitted))
            let via = (rig.adapter as! RedditAdapter).outcome(try #require(listed))
            #expect(via.url == found.url)
            await rig.state.setFaults(.init())
            let heard = try await deliver(
                rig, try job(rig, dir, meta: PublishMetadata(title: "Heard", description: "", tags: [], privacy: .public, publishAt: nil, options: ["subreddit": "oceans"])))
            #expect(heard.url.hasPrefix("https://www.reddit.com/r/oceans/comments/\(heard.remoteId)/"), "\(heard.url)")
        }
    }

    @Test func errorsInsideA200RateWindowsAndFailedProcessingAreClassified() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir)
        try await stopping(rig.server) {
            // No such community: permanent, in Reddit's words.
            await rig.state.setRedditSubredditMissing("oceans")
            let e1 = await #expect(throws: DeliveryError.self) { _ = try await deliver(rig, try job(rig, dir)) }
            #expect(e1?.kind == .permanent && e1?.message.contains("SUBREDDIT_NOEXIST") == true, "\(String(describing: e1))")
            // RATELIMIT inside a 200: waits the minutes named; the media stay uploaded, the next try only submits.
            let meta2 = PublishMetadata(title: "Second", description: "", tags: [], privacy: .public, publishAt: nil, options: ["subreddit": "videos"])
            await rig.state.rateLimitRedditSubmits(minutes: [5])
            let cps = CheckpointLog()
            let t0 = Date()
            let e2 = await #expect(throws: DeliveryError.self) { _ = try await deliver(rig, try job(rig, dir, meta: meta2), checkpoint: { cps.add($0) }) }
            let t1 = Date()
            guard case .retryAt(let at) = e2?.kind else { Issue.record("expected a wait: \(String(describing: e2))"); return }
            #expect(waitIsAbout(at, 305, from: t0, to: t1) && e2?.code == .rateLimited)
            let back = try #require(cps.all.last)
            #expect(RedditAdapter.Session(persisted: back.session)?.step == .uploaded)
            let media = await rig.state.requestCounts["reddit.media"]
            _ = try await deliver(rig, try job(rig, dir, meta: meta2, session: back.session))
            let mediaAfter = await rig.state.requestCounts["reddit.media"], posts = await rig.state.redditPostCount()
            #expect(mediaAfter == media && posts == 1)
            // A 429 at the lease: waits for X-Ratelimit-Reset.
            await rig.state.setFaults(.init(rateLimitInits: 1, rateLimitRetryAfterS: 90))
            let t2 = Date()
            let e3 = await #expect(throws: DeliveryError.self) { _ = try await deliver(rig, try job(rig, dir, meta: meta2)) }
            let t3 = Date()
            guard case .retryAt(let at3) = e3?.kind else { Issue.record("expected a wait: \(String(describing: e3))"); return }
            #expect(waitIsAbout(at3, 90, from: t2, to: t3))
            // The window stays shut for the next request too: it goes back to the queue rather than asking again.
            let e3b = await #expect(throws: DeliveryError.self) { _ = try await deliver(rig, try job(rig, dir, meta: meta2)) }
            #expect(e3b?.message.contains("request window") == true)
            #expect(await rig.state.requestCounts["reddit.lease"] == 5)
        }
    }

    @Test func aDeadRefreshTokenAnsweredInsideA200AsksAPerson() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir)
        try await stopping(rig.server) {
            let meta2 = PublishMetadata(title: "Second", description: "", tags: [], privacy: .public, publishAt: nil, options: ["subreddit": "videos"])
            // A refresh token Reddit no longer knows is answered inside a 200: a person authorizes again.
            await rig.state.revoke(account: "reddit:brand")
            let e5 = await #expect(throws: DeliveryError.self) { _ = try await deliver(rig, try job(rig, dir, meta: meta2)) }
            #expect(e5?.kind == .reauthenticate && e5?.message.contains("invalid_grant") == true, "\(String(describing: e5?.kind)) \(e5?.message ?? "")")
        }
    }

    @Test func aUsedUpWindowIsWaitedForBeforeTheNextRequest() async throws {
        let w = RedditWindow()
        await w.note(["X-Ratelimit-Remaining": "0.0", "X-Ratelimit-Reset": "400", "X-Ratelimit-Used": "1000"])
        let closed = await w.closedUntil()
        #expect(closed.map { $0.timeIntervalSinceNow > 390 } == true)
        await w.note(["X-Ratelimit-Remaining": "12.0", "X-Ratelimit-Reset": "400"])
        #expect(await w.closedUntil() == nil)
        #expect(RedditAPI.waitNamed(in: "Take a break for 5 minutes before trying again.") == 305)
        #expect(RedditAPI.waitNamed(in: "you are doing that too much. try again in 30 seconds.") == 35)
    }

    @Test func textAndSettingsAreCheckedBeforeAnythingIsSent() throws {
        let a = RedditAdapter(
            AdapterSettings(
                account: AccountConfig(
                    key: "reddit:x", platform: "reddit", clientID: "c", clientSecret: "s", refreshToken: "r",
                    endpoint: "", tokenURL: ""),
                tokens: TokenProvider(
                    account: AccountConfig(
                        key: "reddit:x", platform: "reddit", clientID: "c", clientSecret: "s",
                        refreshToken: "r", endpoint: "", tokenURL: ""),
                    http: HTTPClient.shared, store: MemoryTokenStore()),
                http: HTTPClient.shared, chunkSize: 1 << 20))
        func meta(_ title: String, _ options: [String: String], privacy: Privacy = .public) -> PublishMetadata {
            PublishMetadata(title: title, description: "", tags: [], privacy: privacy, publishAt: nil, options: options)
        }
        #expect(a.preflight(meta("ok", ["subreddit": "videos"])) == nil)
        #expect(a.preflight(meta("ok", [:]))?.message.contains("no subreddit") == true)
        #expect(a.preflight(meta("ok", ["subreddit": "a b"]))?.message.contains("not a subreddit name") == true)
        #expect(a.preflight(meta(String(repeating: "x", count: 301), ["subreddit": "videos"]))?.code == .textTooLong)
        #expect(a.preflight(meta("ok", ["subreddit": "videos", "nsfw": "maybe"]))?.message.contains("true or false") == true)
        #expect(a.preflight(meta("ok", ["subreddit": "videos"], privacy: .private))?.message.contains("every post is public") == true)
        func check(_ lines: String) -> OmniError? { AccountChecks.problem("reddit:studio", "    client_id: c\n    client_secret: s\n    refresh_token: r\n" + lines) }
        #expect(check("    subreddit: r/videos\n") == nil)
        let bad = check("    subreddit: \"no spaces allowed\"\n")
        #expect(bad?.message.contains("not a subreddit name") == true && bad?.location?.line != nil, "\(String(describing: bad))")
        #expect(check("    user_agent: bot\n")?.message.contains("descriptive User-Agent") == true)
        // Reddit's User-Agent format, naming the app and (when given) the user.
        let config = try PlatformRegistry.parse(
            text: "version: 1\nroot: /tmp/p\ntargets: [reddit:x]\naccounts:\n  reddit:x: {client_id: abc123, client_secret: s, refresh_token: r, username: u/studio}\n",
            file: "p.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
        let acc = try #require(config.accounts["reddit:x"])
        #expect(RedditPlatform.userAgent(for: acc) == "linux:abc123:\(Product.version) (OmniPost; by u/studio)")
    }

    /// PRAW (Reddit's widely used Python client) against the sandbox, unchanged: it refreshes with the
    /// client in HTTP Basic, leases, form-POSTs the video and its poster to `https:` + the lease's
    /// action, submits, and reads the post's address from the WebSocket; then it replies to the post
    /// (`submission.reply`, a first comment's call) and reads the comment back with the submission.
    @Test(.enabled(if: PythonServer.has("praw")), .timeLimit(.minutes(3)))
    func prawPostsAVideoToTheSandbox() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir)
        try await stopping(rig.server) {
            let clip = try Clips.make(width: 320, height: 240, seconds: 1)
            let poster = dir.file("poster.jpg")
            try Data([0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 7, count: 500)).write(to: poster)
            let script = PipelineConfigTests.repoRoot.appendingPathComponent("Tests/clients/reddit_official_client.py").path
            let ca = rig.server.caFile.path, base = rig.server.baseURL
            let r = try await offPool { try SandboxOfficialClientTests.run(script, [base, "cid", "csecret", "rt-0", clip.path, poster.path, ca]) }
            #expect(r["title"] as? String == "from PRAW" && (r["url"] as? String)?.contains("/r/praw_test/comments/") == true, "\(r.value)")
            #expect(await rig.state.postCount(sha256: try FileHashing.sha256(path: clip.path).hex) == 1)
            #expect((r["comment"] as? String)?.hasPrefix("t1_") == true && r["comments"] as? [String] == ["first from PRAW"], "\(r.value)")
        }
    }

    @Test(.timeLimit(.minutes(3))) func aPipelineInSandboxModePostsToReddit() async throws {
        let dir = try TempDir()
        try await TestPipelines.publishOnce(
            dir, targets: "youtube:main, reddit:main", clip: try Clips.make(width: 320, height: 240, seconds: 2), sidecar: "title: a walk by the sea\nprivacy: public\n"
        ) { p, deliveries in
            // The poster was taken from the clip for Reddit only: YouTube got no thumbnail it was not asked for.
            #expect(deliveries.first { $0.platform == "reddit" }?.coverPath != nil && deliveries.first { $0.platform == "youtube" }?.coverPath == nil)
            let post = try #require(await p.sandbox!.state.redditPosts.first)
            #expect(post.subreddit == "omnipost_sandbox" && post.title == "a walk by the sea")
        }
    }
}
