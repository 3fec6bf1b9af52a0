import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore
import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Douyin through its sandbox: what is particular to it (the shared scenarios are `ConformanceTests`).
@Suite struct DouyinTests {
    static let mib: Int64 = 1_048_576
    static let meta = PublishMetadata(title: "你好 OmniPost", description: "第一条", tags: ["测试"], privacy: .public, publishAt: nil, options: [:])

    func setUp(_ dir: TempDir, size: Int64, faults: SandboxState.Faults = .init(), openID: String = DouyinPlatform.sandboxOpenID("brand")) async throws
        -> PlatformRig
    {
        try await PlatformRig.make(DouyinPlatform.self, dir, size: size, faults: faults, chunkSize: 5 * Self.mib) {
            var s = $0
            s.account.accountID = openID
            return DouyinAdapter(s)
        }
    }

    @Test func aFileWithinOnePartGoesInOneRequestAndThePostCarriesTextCoverAndMentions() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 3 * Self.mib + 7)
        try await stopping(rig.server) {
            var m = Self.meta
            m.coverAtMs = 1500
            m.options["at_users"] = "open-a, open-b"
            let out = try await rig.deliver(m)
            let videos = await rig.state.allVideos()
            #expect(videos.count == 1 && videos[0].platform == "douyin")
            #expect(videos[0].sha256 == (try FileHashing.sha256(path: rig.file.path)).hex)
            // Title, description, then the tags as #topics, one per line (the profile's separator).
            #expect(videos[0].title == "你好 OmniPost\n第一条\n#测试")
            let counts = await rig.state.requestCounts
            #expect(counts["douyin.upload"] == 1 && counts["douyin.init"] == nil)
            let item = try #require(await rig.state.douyinItems(of: "douyin:brand").first)
            #expect(item.coverTsp == 1.5 && item.atUsers == ["open-a", "open-b"])
            // Published when seen: the account's items were read back, and the share URL is the one listed.
            #expect(await rig.state.requestCounts["douyin.list"] == 1)
            #expect(out.remoteId == item.id && out.url.hasSuffix("/douyin/share/" + item.id))
        }
    }

    @Test func partsAreNumberedFromOneAndAVideoIdMakesOnePostOnly() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 11 * Self.mib)
        try await stopping(rig.server) {
            let cps = CheckpointLog()
            _ = try await rig.deliver(Self.meta, checkpoint: { cps.add($0) })
            let counts = await rig.state.requestCounts
            #expect(counts["douyin.part"] == 3 && counts["douyin.complete"] == 1)
            // The upload id before any byte, each part after it is confirmed, then the completed upload and the
            // create: `posting`, that the create left (before it does), and the item it answered.
            #expect(cps.all.map(\.confirmedOffset) == [0, 5 * Self.mib, 10 * Self.mib, rig.size, rig.size, rig.size, rig.size, rig.size])
            let last = try #require(cps.all.last.flatMap { DouyinAdapter.Session(persisted: $0.session) })
            let made = await rig.state.douyinItems(of: "douyin:brand").first?.id
            #expect(last.createSentAt != nil && last.itemID == made)
            // The session's video_id is spent: a create with it again is refused, never a second post.
            let saved = try #require(cps.all.last?.session)
            let video = try #require(DouyinAdapter.Session(persisted: saved)?.videoID)
            let again = await rig.state.createDouyinItem(account: "douyin:brand", videoID: video, text: "x", coverTsp: nil, atUsers: [])
            guard case .failure(.invalid(let why)) = again else { Issue.record("a spent video_id made a second item"); return }
            #expect(why.contains("has been used"))
        }
    }

    @Test func theSandboxHoldsThePartRulesAsDouyinDocumentsThem() async throws {
        let dir = try TempDir()
        let state = SandboxState(root: dir.url)
        // A middle part under 5 MB, and a gap in the numbers, are refused at completion.
        let small = try await state.startDouyinUpload(account: "douyin:brand")
        try await state.storeDouyinPart(small.id, number: 1, bytes: Data(count: 1000))
        try await state.storeDouyinPart(small.id, number: 2, bytes: Data(count: 10))
        guard case .failure(.invalid(let why)) = try await state.completeDouyinUpload(small.id) else { Issue.record("a 1000-byte middle part was taken"); return }
        #expect(why.contains("at least 5 MB"))
        let gap = try await state.startDouyinUpload(account: "douyin:brand")
        try await state.storeDouyinPart(gap.id, number: 1, bytes: Data(count: Int(5 * Self.mib)))
        try await state.storeDouyinPart(gap.id, number: 3, bytes: Data(count: 10))
        guard case .failure(.invalid(let missing)) = try await state.completeDouyinUpload(gap.id) else { Issue.record("part 2 missing was taken"); return }
        #expect(missing.contains("parts 2 are missing"))
        // An upload id lives two hours.
        await state.expireDouyinUploads()
        #expect(await state.douyinUpload(gap.id, account: "douyin:brand") == nil)
    }

    @Test func aRefreshTokenNearItsEndIsRenewedAndOnePastItNeedsAPerson() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 1 * Self.mib)
        try await stopping(rig.server) {
            // 20 of its 30 days gone: the refresh finds 10 left (< 16) and renews it for 30 more.
            await rig.state.ageDouyinRefreshToken("rt-0", by: 20 * 86400)
            _ = try await rig.deliver(Self.meta)
            let counts = await rig.state.requestCounts
            #expect(counts["douyin.refresh"] == 1 && counts["douyin.renew"] == 1)
            let renewed = try #require(rig.store.refreshToken)
            #expect(renewed.hasPrefix("rft.") && renewed != "rt-0")
            #expect(await rig.state.douyinRenewals(renewed) == 1)
            // The old one died with the renewal; the new one is past its 30 days too: Douyin's 10010.
            await rig.state.ageDouyinRefreshToken(renewed, by: 31 * 86400)
            await rig.state.expireAccessTokens()
            var m = Self.meta
            m.title = "second"
            do {
                _ = try await rig.deliver(m)
                Issue.record("a refresh token past its 30 days went unnoticed")
            } catch let e as DeliveryError {
                #expect(e.kind == .reauthenticate && e.code == .authRevoked && e.message.contains("10010"), "\(e)")
            }
        }
    }

    @Test func anotherUsersOpenIdIsAnAccountProblemNotARetry() async throws {
        let dir = try TempDir()
        let rig = try await setUp(dir, size: 1 * Self.mib, openID: "sandbox-open-someone-else")
        try await stopping(rig.server) {
            do {
                _ = try await rig.deliver(Self.meta)
                Issue.record("an open_id of another user was taken")
            } catch let e as DeliveryError {
                #expect(e.kind == .reauthenticate && e.message.contains("2190015"), "\(e)")
            }
            #expect(await rig.state.allVideos().isEmpty)
        }
    }

    /// The envelope's code decides, not HTTP's 200: each row of the table leads where Douyin says.
    @Test func errorCodesAreClassifiedFromTheTable() throws {
        func reply(_ code: Int, status: Int = 200) -> AuthorizedHTTP.Reply {
            let body = #"{"data":{"error_code":\#(code),"description":"d"},"extra":{"error_code":\#(code),"description":"d"}}"#
            return AuthorizedHTTP.Reply(status: status, headers: [:], body: Data(body.utf8))
        }
        // 2026-12-05 12:00 UTC is 20:00 in China: the quota is back at 16:00 UTC.
        let now = Date(timeIntervalSince1970: 1_796_472_000)
        let quota = DouyinAdapter.classify(reply(2_190_001), during: "t", now: now)
        #expect(quota.code == .quotaExhausted && quota.kind == .retryAt(Date(timeIntervalSince1970: 1_796_486_400)))
        let fast = DouyinAdapter.classify(reply(28_003_018), during: "t", now: now)
        #expect(fast.code == .rateLimited)
        #expect(DouyinAdapter.classify(reply(2_100_004), during: "t").kind == .retryNow)
        #expect(DouyinAdapter.classify(reply(28_001_005), during: "t").kind == .retryNow)
        #expect(DouyinAdapter.classify(reply(2_190_004), during: "t").kind == .reauthenticate)
        #expect(DouyinAdapter.classify(reply(2_100_005), during: "t").kind == .permanent)
        #expect(DouyinAdapter.classify(reply(4_242_424), during: "t").kind == .permanent)
        #expect(DouyinAdapter.classify(reply(0, status: 503), during: "t").kind == .retryNow)
        // An expired token under HTTP 200 is refreshed and repeated, as a 401 is.
        #expect(DouyinErrors.refusesToken(reply(2_190_008)) && DouyinErrors.refusesToken(reply(28_001_008)))
        #expect(!DouyinErrors.refusesToken(reply(2_100_004)))
        // The token endpoints' codes that mean a person must authorize again.
        #expect(DouyinErrors.deadGrants == ["10010", "10020"])
    }

    @Test func aPipelinePublishesToDouyinWithItsOverrides() async throws {
        let dir = try TempDir()
        try await TestPipelines.publishOnce(
            dir, targets: "douyin:brand", clip: try Clips.make(width: 540, height: 960, seconds: 2), stem: "dy",
            sidecar: "title: 抖音第一条\nprivacy: public\ntags: [omnipost]\ncover: {at_ms: 500}\noverrides: {douyin: {at_users: open-x}}\n"
        ) { p, deliveries in
            let videos = await p.sandbox!.state.allVideos()
            #expect(videos.count == 1 && videos[0].platform == "douyin" && videos[0].title == "抖音第一条\n#omnipost")
            let item = try #require(await p.sandbox!.state.douyinItems(of: "douyin:brand").first)
            #expect(item.coverTsp == 0.5 && item.atUsers == ["open-x"])
            #expect(deliveries.first?.remoteId == item.id)
        }
    }
}
