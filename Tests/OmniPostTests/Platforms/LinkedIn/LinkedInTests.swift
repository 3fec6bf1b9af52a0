import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// LinkedIn through its sandbox: parts with ETags, finalize, processing, the post, and what goes wrong.
@Suite struct LinkedInTests {
    static let mib: Int64 = 1_048_576
    static let meta = PublishMetadata(
        title: "Launch (v2) — 50% off", description: "Made with care @home #1", tags: ["omnipost", "video tips"],
        privacy: .public, publishAt: nil, options: [:])

    func setUp(_ dir: TempDir, size: Int64, faults: SandboxState.Faults = .init()) async throws -> PlatformRig {
        try await PlatformRig.make(LinkedInPlatform.self, dir, size: size, faults: faults) {
            LinkedInAdapter($0, poll: PollPolicy(first: .milliseconds(20), max: .milliseconds(50), perMinute: 6000))
        }
    }

    @Test func aGoodPostArrivesWholeWithItsText() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 9 * Self.mib + 77)
        try await stopping(rig.server) {
            let cps = CheckpointLog()
            let out = try await rig.deliver(Self.meta, checkpoint: { cps.add($0) })
            let videos = await rig.state.allVideos()
            #expect(videos.count == 1 && videos[0].platform == "linkedin")
            #expect(videos[0].sha256 == (try FileHashing.sha256(path: rig.file.path)).hex)
            #expect(out.remoteId == videos[0].id && out.remoteId.hasPrefix("urn:li:share:"))
            // Reserved characters escaped, tags as hashtag templates: LinkedIn's little text format.
            #expect(videos[0].description == #"Launch \(v2\) — 50% off"# + "\n\n" + ##"Made with care \@home \#1"## + "\n\n" + ##"{hashtag|\#|omnipost} {hashtag|\#|videotips}"##)
            #expect(videos[0].title == "Launch (v2) — 50% off" && videos[0].privacy == "PUBLIC")
            #expect(cps.all.map(\.confirmedOffset) == [0, 4 * Self.mib, 8 * Self.mib, rig.size, rig.size, rig.size])
            #expect(await rig.state.requestCounts["linkedin.put"] == 3)
        }
    }

    /// A daemon killed after part k (its checkpoints are what survives) resumes with parts k+1… only,
    /// and finalizes with every part's ETag in order — the ones from before the kill among them (the
    /// sandbox refuses finalizeUpload otherwise).
    @Test func aResumeAfterAKillAtAPartSendsOnlyTheRestAndFinalizesWithEveryETag() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 4 * 4 * Self.mib + 77)
        try await stopping(rig.server) {
            let before = try await interrupted { try await rig.deliver(Self.meta, checkpoint: $0) } at: { $0.confirmedOffset == 2 * 4 * Self.mib }
            let killed = try #require(before.last)
            #expect(await rig.state.requestCounts["linkedin.put"] == 2)
            let held = try #require(LinkedInAdapter.Session(persisted: killed.session))
            #expect(held.parts.map { $0.etag != nil } == [true, true, false, false, false])
            let after = CheckpointLog()
            let out = try await rig.deliver(Self.meta, session: killed.session, offset: killed.confirmedOffset, checkpoint: { after.add($0) })
            #expect(await rig.state.requestCounts["linkedin.put"] == 5, "parts 3–5 only were sent again")
            #expect(await rig.state.requestCounts["linkedin.init"] == 1)
            #expect(await rig.state.requestCounts["linkedin.finalize"] == 1)
            let finalized = try #require(after.all.last.flatMap { LinkedInAdapter.Session(persisted: $0.session) })
            #expect(finalized.parts.allSatisfy { $0.etag != nil })
            #expect(Array(finalized.parts.prefix(2).map(\.etag)) == held.parts.prefix(2).map(\.etag), "the ETags from before the kill were kept")
            let videos = await rig.state.allVideos(), sha256 = try FileHashing.sha256(path: rig.file.path).hex
            #expect(videos.count == 1 && videos.first?.sha256 == sha256)
            #expect(out.remoteId == videos.first?.id)
        }
    }

    /// The session's text is put together from each part's own encoding (a checkpoint per part no longer
    /// encodes every signed URL again): it is exactly what `JSONEncoder` with sorted keys makes of the
    /// whole session — what the ledger has always held — and reads back as the same session.
    @Test func theSessionTextIsWhatJSONEncoderMakesOfTheWholeSession() throws {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        let odd = ["plain", #"quote " and \ back\slash"#, "slash / and \u{2028} and é 🎬", "tab\t newline\n nul\u{0} bell\u{7} del\u{7f}", ""]
        for (i, text) in odd.enumerated() {
            let parts = (0..<4).map { k in
                LinkedInAdapter.Part(
                    url: "https://www.linkedin.com/dms-uploads/sp/v2/\(text)/\(k)?ca=vector_feedshare&sig=a/b+c=", first: Int64(k) * 10, last: Int64(k) * 10 + 9,
                    etag: k == 1 ? "/ambry-video/signedId/\(text)" : nil)
            }
            for expiresAt in [nil, 1_765_139_955.123, 1_765_139_955, 0.1] as [Double?] {
                for phase in [nil, .uploading, .finalized, .posting] as [UploadPhase?] {
                    var s = LinkedInAdapter.Session(video: "urn:li:video:\(text)", uploadToken: i % 2 == 0 ? text : "", owner: "urn:li:person:\(text)", parts: parts, expiresAt: expiresAt, phase: phase)
                    let whole = String(decoding: try e.encode(s), as: UTF8.self)
                    #expect(s.persisted == whole)
                    s.parts[2].confirm("\"etag\" \(text)")
                    let text = s.persisted, confirmed = String(decoding: try e.encode(s), as: UTF8.self)
                    #expect(text == confirmed)
                    let read = try #require(LinkedInAdapter.Session(persisted: text))
                    #expect(read.persisted == text)
                    #expect(read.parts.map(\.etag) == s.parts.map(\.etag) && read.confirmed == 20)
                }
            }
        }
    }

    @Test func aRefreshKeepsTheRefreshTokenAsLinkedInDoesNotRotateIt() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 1 * Self.mib)
        try await stopping(rig.server) {
            await rig.state.expireAccessTokens()
            _ = try await rig.deliver(Self.meta)
            #expect(await rig.state.requestCounts["linkedin.token"] == 1)
            #expect(rig.store.refreshToken == "rt-0")
        }
    }

    @Test func anAuthorTheTokenMayNotPostAsIsRefusedWithLinkedInsCode() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 1 * Self.mib)
        try await stopping(rig.server) {
            // An author the token may not post as: refused once, permanently.
            var other = rig
            var settings = (rig.adapter as! LinkedInAdapter).settings
            settings.account.accountID = "urn:li:person:someoneelse"
            other.adapter = LinkedInAdapter(settings)
            do {
                _ = try await other.deliver(Self.meta)
                Issue.record("posting as someone else was accepted")
            } catch let e as DeliveryError {
                #expect(e.kind == .permanent && e.httpStatus == 403 && e.message.contains("serviceErrorCode 100"))
            }
            #expect(await rig.state.allVideos().isEmpty)
        }
    }

    @Test func preflightAndVersions() async throws {
        var m = Self.meta
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 1)
        try await stopping(rig.server) {
            m.privacy = .private
            #expect(rig.adapter.preflight(m)?.code == .invalidValue)
            m.privacy = .followers
            #expect(rig.adapter.preflight(m) == nil)
            m.description = String(repeating: "x", count: 3000)
            #expect(rig.adapter.preflight(m)?.code == .textTooLong)
            #expect(LinkedInAdapter.apiVersion(now: ISO8601DateFormatter().date(from: "2026-01-15T00:00:00Z")!) == "202512")
            // The sandbox refuses a missing or retired version as LinkedIn does.
            let raw = try await RawHTTP.send(
                rig.server.baseURL + "/rest/posts?q=author&author=x", .GET,
                headers: ["Authorization": "Bearer \(try await (rig.adapter as! LinkedInAdapter).settings.tokens.accessToken())"])
            #expect(raw.status == 400 && String(decoding: raw.body, as: UTF8.self).contains("VERSION_MISSING"))
            #expect(LinkedInRoutes.littleTextProblem(##"a \(b\) {hashtag|\#|c} @[Jo](urn:li:person:1)"##) == nil)
            #expect(LinkedInRoutes.littleTextProblem("a (b)") != nil)
        }
    }

    @Test func aPipelinePublishesToYouTubeXAndLinkedIn() async throws {
        let dir = try TempDir()
        try await TestPipelines.publishOnce(
            dir, targets: "youtube:main, x:brand, linkedin:brand", clip: try Clips.make(width: 540, height: 960, seconds: 3.3), stem: "all",
            sidecar: "title: all three (at once)\nprivacy: public\ntags: [omnipost]\n"
        ) { p, deliveries in
            #expect(deliveries.count == 3)
            let videos = await p.sandbox!.state.allVideos()
            #expect(Set(videos.map(\.platform)) == ["youtube", "x", "linkedin"])
            #expect(videos.first { $0.platform == "linkedin" }?.description == #"all three \(at once\)"# + "\n\n" + ##"{hashtag|\#|omnipost}"##)
        }
    }
}
