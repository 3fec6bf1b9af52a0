import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Bilibili through its sandbox: what is particular to it (the shared scenarios are `ConformanceTests`).
@Suite struct BilibiliTests {
    static let mib: Int64 = 1_048_576
    static let meta = PublishMetadata(
        title: "第一个稿件", description: "由 OmniPost 投稿", tags: ["测试", "omnipost"], privacy: .public, publishAt: nil, options: ["tid": "231"])

    func setUp(_ dir: TempDir, size: Int64) async throws -> (PlatformRig, URL) {
        let rig = try await PlatformRig.make(BilibiliPlatform.self, dir, size: size) {
            var s = $0
            s.account.fillIn("upload_endpoint", s.account.endpoint)
            return BilibiliAdapter(s)
        }
        let cover = dir.file("cover.jpg")
        try Data([0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 9, count: 2000)).write(to: cover)
        return (rig, cover)
    }

    func job(_ rig: PlatformRig, _ cover: URL, _ meta: PublishMetadata = Self.meta) -> UploadJob {
        var j = rig.job(meta)
        j.coverPath = cover.path
        return j
    }

    @Test func aSmallFileGoesInOneRequestAndTheArchiveCarriesItsCategoryTagsAndCover() async throws {
        let dir = try TempDir()
        let (rig, cover) = try await setUp(dir, size: 3 * Self.mib)
        try await stopping(rig.server) {
            let out = try await rig.adapter.deliver(job(rig, cover), checkpoint: { _ in }, progress: { _, _ in })
            let counts = await rig.state.requestCounts
            #expect(counts["bilibili.upload"] == 1 && counts["bilibili.part"] == nil && counts["bilibili.cover"] == 1)
            let a = try #require(await rig.state.bilibiliArchives(of: "bilibili:brand").first)
            #expect(a.title == "第一个稿件" && a.tid == 231 && a.tags == ["测试", "omnipost"] && a.copyright == 1)
            #expect(out.remoteId == a.id && counts["bilibili.list"] == 1)
            #expect(await rig.state.allVideos().first?.sha256 == (try FileHashing.sha256(path: rig.file.path)).hex)
        }
    }

    @Test func aLargerFileGoesInNumberedPartsMergedBeforeTheSubmit() async throws {
        let dir = try TempDir()
        let (rig, cover) = try await setUp(dir, size: 9 * Self.mib + 5)
        try await stopping(rig.server) {
            _ = try await rig.adapter.deliver(job(rig, cover), checkpoint: { _ in }, progress: { _, _ in })
            let counts = await rig.state.requestCounts
            #expect(counts["bilibili.part"] == 3 && counts["bilibili.complete"] == 1 && counts["bilibili.submit"] == 1)
            #expect(await rig.state.allVideos().first?.sha256 == (try FileHashing.sha256(path: rig.file.path)).hex)
        }
    }

    @Test func aRepostNamesItsSourceAndAnArchiveNeedsATag() async throws {
        let dir = try TempDir()
        let (rig, cover) = try await setUp(dir, size: 1 * Self.mib)
        try await stopping(rig.server) {
            var m = Self.meta
            m.options["copyright"] = "2"
            let e = await #expect(throws: DeliveryError.self) { _ = try await rig.adapter.deliver(job(rig, cover, m), checkpoint: { _ in }, progress: { _, _ in }) }
            #expect(e?.kind == .permanent && e?.message.contains("source") == true)
            m.options["source"] = "https://example.com/original"
            _ = try await rig.adapter.deliver(job(rig, cover, m), checkpoint: { _ in }, progress: { _, _ in })
            #expect(await rig.state.bilibiliArchives(of: "bilibili:brand").first?.source == "https://example.com/original")
            m.tags = []
            let none = await #expect(throws: DeliveryError.self) { _ = try await rig.adapter.deliver(job(rig, cover, m), checkpoint: { _ in }, progress: { _, _ in }) }
            #expect(none?.message.contains("tag") == true)
            // Nothing was started for either refusal: one init, for the archive that was made.
            #expect(await rig.state.requestCounts["bilibili.init"] == 1)
        }
    }

    @Test func theSandboxMergesOnlyPartsOfOneSizeWithNoneMissing() async throws {
        let dir = try TempDir()
        let state = SandboxState(root: dir.url)
        let u = try await state.startBilibiliUpload(account: "bilibili:brand", single: false)
        try await state.storeBilibiliPart(u.token, number: 1, bytes: Data(count: 100))
        try await state.storeBilibiliPart(u.token, number: 2, bytes: Data(count: 50))
        try await state.storeBilibiliPart(u.token, number: 3, bytes: Data(count: 10))
        #expect(try await state.completeBilibiliUpload(u.token)?.contains("one size") == true)
        let gap = try await state.startBilibiliUpload(account: "bilibili:brand", single: false)
        try await state.storeBilibiliPart(gap.token, number: 2, bytes: Data(count: 10))
        #expect(try await state.completeBilibiliUpload(gap.token)?.contains("parts 1 are missing") == true)
    }

    @Test func aPipelinePublishesToBilibiliWithAFrameAsItsCover() async throws {
        let dir = try TempDir()
        try await TestPipelines.publishOnce(
            dir, targets: "bilibili:brand", clip: try Clips.make(width: 640, height: 360, seconds: 2), stem: "bili",
            sidecar: "title: B站第一条\nprivacy: public\ntags: [omnipost]\noverrides: {bilibili: {tid: 17}}\n"
        ) { p, deliveries in
            let a = try #require(await p.sandbox!.state.bilibiliArchives(of: "bilibili:brand").first)
            #expect(a.title == "B站第一条" && a.tid == 17 && deliveries.first?.remoteId == a.id)
        }
    }

    /// Bilibili's archive needs a tag: a drop without one fails at validation (`tags_required`, in
    /// words), its original kept — never found out at the submit.
    @Test func aDropWithoutATagFailsAtValidationNotAtTheSubmit() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [bilibili:brand]")
        try TestPipelines.drop(try Clips.make(width: 640, height: 360, seconds: 1), as: "notag", sidecar: "title: 没有标签\nprivacy: public\n", into: config)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let drop = try #require(try p.context.ledger.drops().first)
            #expect(drop.state == .failed && drop.reasonCode == "tags_required", "\(drop.reasonCode ?? "") \(drop.reasonMessage ?? "")")
            #expect(drop.reasonMessage?.contains("bilibili needs at least 1") == true, "\(drop.reasonMessage ?? "")")
            #expect(await p.sandbox!.state.requestCounts["bilibili.init"] == nil)
            #expect(FileManager.default.fileExists(atPath: config.paths.failed.appendingPathComponent("\(drop.id)/notag.mp4").path))
        }
    }
}
