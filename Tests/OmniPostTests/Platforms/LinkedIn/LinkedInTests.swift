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
