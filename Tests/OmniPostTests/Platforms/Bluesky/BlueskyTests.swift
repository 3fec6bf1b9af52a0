import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Bluesky through its sandbox: an app-password session renewed when it expires, the upload limits
/// read, the video service's job polled to its blob, a post with facets at the right byte offsets; a
/// cut after the upload posts without uploading again, an uncertain post is found by its record key;
/// limits, rate limits, refused passwords and failed jobs classified.
@Suite struct BlueskyTests {
    static let meta = PublishMetadata(
        title: "Waves 🌊 at dawn", description: "with @friend.sandbox.test — more at https://example.com/waves.", tags: ["sea", "dawn"],
        privacy: .public, publishAt: nil, options: ["alt": "waves breaking on a beach"])

    static func rig(_ dir: TempDir, size: Int = 300_000, handle: String = "studio.sandbox.test", password: String = "abcd-efgh-ijkl-mnop") async throws -> (
        SandboxServer, any PlatformAdapter, URL
    ) {
        let s = SandboxServer(root: dir.file("sandbox"))
        try await s.start()
        await s.state.registerBluesky(account: "bluesky:studio", handle: "studio.sandbox.test", appPassword: "abcd-efgh-ijkl-mnop")
        await s.state.registerBluesky(account: "bluesky:friend", handle: "friend.sandbox.test", appPassword: "zzzz-zzzz-zzzz-zzzz")
        let text =
            "version: 1\nroot: \(dir.url.path)/p\nsandbox: none\ntargets: [bluesky:studio]\naccounts:\n  bluesky:studio: {endpoint: \"\(s.baseURL)\", video_service: \"\(s.baseURL)\", handle: \(handle), app_password: \(password)}\n"
        let config = try PlatformRegistry.parse(text: text, file: "p.yaml", baseDirectory: dir.url)
        let account = try #require(config.accounts["bluesky:studio"])
        let settings = AdapterSettings(
            account: account, tokens: TokenProvider(account: account, http: HTTPClient.shared, store: MemoryTokenStore()),
            http: HTTPClient.shared, chunkSize: 1 << 20, backoff: Backoff(base: .milliseconds(10), cap: .milliseconds(50)))
        let adapter = BlueskyAdapter(settings, poll: PollPolicy(first: .milliseconds(20), max: .milliseconds(50), perMinute: 6000), pollTimeout: .seconds(10))
        let f = dir.file("waves.mp4")
        try Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 3 &+ $0 >> 9) }).write(to: f)
        return (s, adapter, f)
    }

    static func job(_ f: URL, session: String? = nil) throws -> UploadJob {
        let size = try #require(try FileManager.default.attributesOfItem(atPath: f.path)[.size] as? Int64)
        var j = UploadJob(deliveryId: 4, filePath: f.path, size: size, metadata: meta, session: session, confirmedOffset: 0)
        j.expectedSha256 = try FileHashing.sha256(path: f.path).hex
        j.frame = (1080, 1920)
        return j
    }

    static func record(_ s: SandboxServer, _ uri: String) async throws -> [String: Any] {
        let parts = uri.split(separator: "/")
        let r = try await RawHTTP.send(s.baseURL + "/xrpc/com.atproto.repo.getRecord?repo=\(parts[1])&collection=app.bsky.feed.post&rkey=\(parts[3])", .GET)
        return try #require((try JSONSerialization.jsonObject(with: r.body) as? [String: Any])?["value"] as? [String: Any])
    }

    @Test func aPostCarriesTheVideoAltAspectAndFacetsAtTheirBytes() async throws {
        let dir = try TempDir()
        let (s, a, f) = try await Self.rig(dir)
        try await stopping(s) {
            await s.state.setFaults(.init(processingMs: 150))
            let out = try await a.deliver(try Self.job(f), checkpoint: { _ in }, progress: { _, _ in })
            #expect(out.remoteId.hasPrefix("at://did:plc:") && out.url.hasPrefix("https://bsky.app/profile/studio.sandbox.test/post/"))
            let v = try #require(await s.state.allVideos().first)
            let want = try Self.job(f).expectedSha256
            #expect(v.platform == "bluesky" && v.sha256 == want)
            let rec = try await Self.record(s, out.remoteId)
            let text = try #require(rec["text"] as? String)
            #expect(text == "Waves 🌊 at dawn\n\nwith @friend.sandbox.test — more at https://example.com/waves.\n\n#sea #dawn")
            let embed = try #require(rec["embed"] as? [String: Any])
            #expect(embed["alt"] as? String == "waves breaking on a beach")
            #expect((embed["aspectRatio"] as? [String: Int]) == ["width": 1080, "height": 1920])
            // Each facet's bytes are exactly the word it marks (the emoji and the dash are multi-byte).
            let bytes = Array(text.utf8)
            var marked: [String] = []
            for facet in rec["facets"] as? [[String: Any]] ?? [] {
                let i = try #require(facet["index"] as? [String: Int])
                marked.append(String(decoding: bytes[i["byteStart"]!..<i["byteEnd"]!], as: UTF8.self))
            }
            #expect(marked == ["@friend.sandbox.test", "https://example.com/waves", "#sea", "#dawn"], "\(marked)")
            let features = (rec["facets"] as? [[String: Any]] ?? []).compactMap { ($0["features"] as? [[String: Any]])?.first?["$type"] as? String }
            #expect(features == ["app.bsky.richtext.facet#mention", "app.bsky.richtext.facet#link", "app.bsky.richtext.facet#tag", "app.bsky.richtext.facet#tag"])
        }
    }

    /// The video service's own ways: a job it forgot sends the video again under the same record key;
    /// the same bytes in a new delivery are answered already_exists with the blob.
    @Test func aForgottenJobIsSentAgainAndTheSameBytesAreAlreadyThere() async throws {
        let dir = try TempDir()
        let (s, a, f) = try await Self.rig(dir)
        try await stopping(s) {
            let out = try await a.deliver(try Self.job(f), checkpoint: { _ in }, progress: { _, _ in })
            // A job the video service forgot: the video goes again, the post is made once.
            let f4 = dir.file("forgotten.mp4")
            try Data(repeating: 4, count: 4000).write(to: f4)
            let forgotten = #"{"rkey":"3kabcdefghijk","jobId":"no-such-job","started":0}"#
            let redone = try await a.deliver(try Self.job(f4, session: forgotten), checkpoint: { _ in }, progress: { _, _ in })
            #expect(redone.bytesSent == 4000 && redone.remoteId.hasSuffix("/3kabcdefghijk"))
            // The same bytes in a new delivery: the video service says already_exists and hands back the blob.
            let second = try await a.deliver(try Self.job(f), checkpoint: { _ in }, progress: { _, _ in })
            let total = await s.state.allVideos().count
            #expect(second.remoteId != out.remoteId && total == 3)
        }
    }

    /// A restarted daemon goes on with the stored session instead of signing in again (createSession is
    /// limited to 30 per 5 minutes); an expired stored one is renewed with its refresh JWT.
    @Test func aRestartGoesOnWithTheStoredSession() async throws {
        let dir = try TempDir()
        let (s, a, f) = try await Self.rig(dir)
        try await stopping(s) {
            _ = try await a.deliver(try Self.job(f), checkpoint: { _ in }, progress: { _, _ in })
            let settings = (a as! BlueskyAdapter).settings
            for _ in 0..<3 {
                let restarted = BlueskyAdapter(settings, poll: PollPolicy(first: .milliseconds(20), max: .milliseconds(50), perMinute: 6000))
                _ = try await restarted.deliver(try Self.job(f), checkpoint: { _ in }, progress: { _, _ in })
            }
            let signIns = await s.state.requestCounts["bluesky.createSession"]
            #expect(signIns == 1)
            // The stored access JWT lapsed while the daemon was down: the next start renews it with the stored refresh JWT.
            let key = "bluesky:studio|studio.sandbox.test"
            let stored = try await settings.tokens.store.load(account: key)
            #expect(stored.refreshToken != nil && stored.accessToken != nil)
            try await settings.tokens.store.save(
                account: key, accessToken: try #require(stored.accessToken), expiresAt: Date(timeIntervalSince1970: 0),
                refreshToken: stored.refreshToken)
            let later = BlueskyAdapter(settings, poll: PollPolicy(first: .milliseconds(20), max: .milliseconds(50), perMinute: 6000))
            _ = try await later.deliver(try Self.job(f), checkpoint: { _ in }, progress: { _, _ in })
            let signIns2 = await s.state.requestCounts["bluesky.createSession"], refreshes = await s.state.requestCounts["bluesky.refreshSession"] ?? 0
            #expect(signIns2 == 1 && refreshes >= 1)
        }
    }

    @Test func dailyLimitsARefusedAppPasswordAndPrivacyAreBlueskys() async throws {
        let dir = try TempDir()
        let (s, a, f) = try await Self.rig(dir)
        try await stopping(s) {
            // The day's videos used up: waits for tomorrow (UTC), nothing uploaded.
            await s.state.setBlueskyDailyVideos(0)
            let e1 = await #expect(throws: DeliveryError.self) { _ = try await a.deliver(try Self.job(f), checkpoint: { _ in }, progress: { _, _ in }) }
            guard case .retryAt(let at) = e1?.kind else { Issue.record("expected a wait: \(String(describing: e1))"); return }
            let uploads = await s.state.requestCounts["bluesky.uploadVideo"]
            #expect(at > Date() && e1?.code == .quotaExhausted && uploads == nil)
            await s.state.setBlueskyDailyVideos(25)
            // A refused app password: a person must make a new one.
            let dir2 = try TempDir()
            let (s2, bad, f3) = try await Self.rig(dir2, password: "wron-gpas-swor-dxxx")
            try await stopping(s2) {
                let e4 = await #expect(throws: DeliveryError.self) { _ = try await bad.deliver(try Self.job(f3), checkpoint: { _ in }, progress: { _, _ in }) }
                #expect(e4?.kind == .reauthenticate && e4?.message.contains("new app password") == true)
                // Too long a text: refused at validation, before anything is sent.
                let long = PublishMetadata(title: String(repeating: "ab ", count: 101), description: "", tags: [], privacy: .public, publishAt: nil, options: [:])
                #expect(a.preflight(long)?.code == .textTooLong)
                // No private posts on Bluesky: a private clip is refused, never posted publicly.
                let secret = PublishMetadata(title: "t", description: "", tags: [], privacy: .unlisted, publishAt: nil, options: [:])
                #expect(a.preflight(secret)?.message.contains("every post is public") == true)
            }
        }
    }

    /// Text limits counted as the lexicon counts them — 300 graphemes AND 3000 UTF-8 bytes — and checked
    /// before the video spends one of the day's uploads: at validation, in the adapter, and by the PDS.
    @Test func aTextOverEitherLimitIsRefusedBeforeTheUpload() async throws {
        let dir = try TempDir()
        let (s, a, f) = try await Self.rig(dir)
        try await stopping(s) {
            // 150 graphemes of 25 bytes each (a family emoji, one grapheme): 3750 bytes.
            let family = "👨‍👩‍👧‍👦"
            #expect(family.count == 1 && family.utf8.count == 25)
            let heavy = PublishMetadata(title: String(repeating: family, count: 150), description: "", tags: [], privacy: .public, publishAt: nil, options: [:])
            let p = try #require(a.preflight(heavy))
            #expect(p.code == .textTooLong && p.message.contains("3000 bytes") && p.message.contains("3750 bytes in 150 graphemes"), "\(p.message)")
            // 120 of them (3000 bytes) fit exactly; 301 one-byte graphemes do not.
            #expect(a.preflight(PublishMetadata(title: String(repeating: family, count: 120), description: "", tags: [], privacy: .public, publishAt: nil, options: [:])) == nil)
            #expect(
                a.preflight(PublishMetadata(title: String(repeating: "a", count: 301), description: "", tags: [], privacy: .public, publishAt: nil, options: [:]))?.code
                    == .textTooLong)
            // The adapter refuses it before anything is sent, even past validation.
            var job = try Self.job(f)
            job.metadata = heavy
            let e = await #expect(throws: DeliveryError.self) { _ = try await a.deliver(job, checkpoint: { _ in }, progress: { _, _ in }) }
            let uploads = await s.state.requestCounts["bluesky.uploadVideo"], limits = await s.state.requestCounts["bluesky.getUploadLimits"]
            #expect(e?.kind == .permanent && e?.code == .textTooLong && uploads == nil && limits == nil)
            // The sandbox's PDS counts bytes as the lexicon does.
            let login = try await RawHTTP.send(
                s.baseURL + "/xrpc/com.atproto.server.createSession", .POST,
                headers: ["Content-Type": "application/json"], body: Data(#"{"identifier":"studio.sandbox.test","password":"abcd-efgh-ijkl-mnop"}"#.utf8))
            let sess = try #require(try JSONSerialization.jsonObject(with: login.body) as? [String: Any])
            let record: [String: Any] = [
                "repo": sess["did"] as! String, "collection": "app.bsky.feed.post",
                "record": ["$type": "app.bsky.feed.post", "text": String(repeating: family, count: 121), "createdAt": "2026-01-01T00:00:00Z"]
            ]
            let refused = try await RawHTTP.send(
                s.baseURL + "/xrpc/com.atproto.repo.createRecord", .POST,
                headers: ["Content-Type": "application/json", "Authorization": "Bearer \(sess["accessJwt"] as! String)"],
                body: try JSONSerialization.data(withJSONObject: record))
            #expect(refused.status == 400 && String(decoding: refused.body, as: UTF8.self).contains("must not be longer than 3000 characters"))
        }
    }

    /// A pipeline refuses such a drop at validation: the Bluesky delivery never uploads.
    @Test(.timeLimit(.minutes(3))) func aPipelineRefusesATextOverThreeThousandBytesAtValidation() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [bluesky:main]")
        let title = String(repeating: "👨‍👩‍👧‍👦", count: 130)
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "family", sidecar: "title: \"\(title)\"\nprivacy: public\n", into: config)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let drops = try p.context.ledger.drops()
            #expect(drops.map(\.reasonCode) == ["text_too_long"], "\(drops.map { $0.reasonMessage ?? "" })")
            let published = try p.context.ledger.allDeliveries().filter { $0.state == .published }
            let uploads = await p.sandbox!.state.requestCounts["bluesky.uploadVideo"]
            #expect(published.isEmpty && uploads == nil)
        }
    }

    /// Links trimmed as the official SDK trims them: a closing bracket the URL opened stays.
    @Test func aLinkKeepsTheBracketItOpened() {
        func links(_ t: String) -> [String] {
            BlueskyText.facets(t).compactMap { f in
                if case .link = f.kind { return String(decoding: Array(t.utf8)[f.byteStart..<f.byteEnd], as: UTF8.self) }
                return nil
            }
        }
        #expect(links("see https://en.wikipedia.org/wiki/Swift_(programming_language)") == ["https://en.wikipedia.org/wiki/Swift_(programming_language)"])
        #expect(links("(see https://en.wikipedia.org/wiki/Bracket_(disambiguation)).") == ["https://en.wikipedia.org/wiki/Bracket_(disambiguation))"])
        #expect(links("(https://example.com/a)") == ["https://example.com/a"])
        #expect(links("at https://example.com/waves. Then") == ["https://example.com/waves"])
        #expect(links("wow https://example.com/x?! ok") == ["https://example.com/x?"])
        #expect(links("a 🌊 https://example.com/(x) b") == ["https://example.com/(x)"])
    }

    /// `accounts check` for an app-password account: the session renewed now and the DID it names; a
    /// refused password says a person must make a new one.
    @Test func anAppPasswordIsCheckedByItsSession() async throws {
        let dir = try TempDir()
        let (s, a, _) = try await Self.rig(dir)
        try await stopping(s) {
            let who = try await BlueskyPlatform.whoAmI((a as! BlueskyAdapter).settings)
            #expect(who?.name == "@studio.sandbox.test" && who?.id.hasPrefix("did:plc:") == true)
            let dir2 = try TempDir()
            let (s2, bad, _) = try await Self.rig(dir2, password: "wron-gpas-swor-dxxx")
            try await stopping(s2) {
                let e = await #expect(throws: DeliveryError.self) { _ = try await BlueskyPlatform.whoAmI((bad as! BlueskyAdapter).settings) }
                #expect(e?.kind == .reauthenticate)
            }
        }
    }

    @Test func settingsAreCheckedAtTheirLines() throws {
        func check(_ lines: String) -> OmniError? { AccountChecks.problem("bluesky:studio", lines) }
        #expect(check("    handle: studio.bsky.social\n    app_password: my-real-password\n")?.message.contains("xxxx-xxxx-xxxx-xxxx") == true)
        #expect(check("    handle: \"@studio.bsky.social\"\n    app_password: abcd-efgh-ijkl-mnop\n")?.message.contains("without @") == true)
        #expect(check("    app_password: abcd-efgh-ijkl-mnop\n")?.message.contains("needs `handle`") == true)
        #expect(check("    handle: studio.bsky.social\n    app_password: abcd-efgh-ijkl-mnop\n") == nil)
    }

    /// The AT Protocol SDK for Python (MarshalX's atproto) against the sandbox's PDS: sign in, post a video,
    /// reply to it (`send_post(reply_to=…)`, a first comment's record) and read the thread back.
    @Test(.enabled(if: PythonServer.has("atproto")), .timeLimit(.minutes(3)))
    func theATProtoSDKPostsAVideoToTheSandbox() async throws {
        let dir = try TempDir()
        let (s, _, f) = try await Self.rig(dir)
        try await stopping(s) {
            let script = PipelineConfigTests.repoRoot.appendingPathComponent("Tests/clients/bluesky_official_client.py").path
            let r = try await offPool { try SandboxOfficialClientTests.run(script, [s.baseURL, "studio.sandbox.test", "abcd-efgh-ijkl-mnop", f.path]) }
            #expect((r["uri"] as? String)?.hasPrefix("at://did:plc:") == true && r["text"] as? String == "from the SDK", "\(r.value)")
            #expect(await s.state.postCount(sha256: try #require(try Self.job(f).expectedSha256)) == 1)
            #expect((r["reply"] as? String)?.hasPrefix("at://did:plc:") == true && r["replies"] as? [String] == ["first from the SDK"], "\(r.value)")
        }
    }

    @Test(.timeLimit(.minutes(3))) func aPipelineInSandboxModePostsToBluesky() async throws {
        let dir = try TempDir()
        try await TestPipelines.publishOnce(dir, targets: "youtube:main, bluesky:main", sidecar: "title: a walk #sea\nprivacy: public\n") { p, deliveries in
            let post = try #require(deliveries.first { $0.platform == "bluesky" }?.remoteId)
            let rec = try await Self.record(p.sandbox!, post)
            #expect((rec["embed"] as? [String: Any])?["aspectRatio"] as? [String: Int] == ["width": 320, "height": 240])
        }
    }
}
