import Foundation
import OmniPostCore
import OmniPostPlatforms
import Testing

/// A pipeline's own profile is what its uploads are held to: validation applies the profile's text rule,
/// the delivery carries it, and the adapter enforces the same rule when it uploads. The sandbox keeps
/// refusing what the platform refuses, whatever a profile says.
@Suite struct ProfileTextOverrideTests {
    /// The bundled profiles with one rule changed, written as a pipeline's own profiles file.
    static func profilesFile(in dir: TempDir, replacing old: String, with new: String) throws -> String {
        let text = try String(contentsOf: PipelineConfigTests.repoRoot.appendingPathComponent("Sources/OmniPostCore/Resources/profiles.yaml"), encoding: .utf8)
        #expect(text.contains(old))
        return try dir.write("mine.yaml", text.replacingOccurrences(of: old, with: new)).path
    }

    /// X's caption lowered to 20: the drop is refused at validation with the profile's number, at the
    /// line of the sidecar field that made it too long.
    @Test(.timeLimit(.minutes(3))) func aProfileThatLowersXsCaptionIsEnforcedAtValidation() async throws {
        let dir = try TempDir()
        let mine = try Self.profilesFile(in: dir, replacing: "caption: {max: 280, counts: x_weighted", with: "caption: {max: 20, counts: x_weighted")
        let config = try TestPipelines.config(root: dir.url, extra: "profiles: \(mine)", targets: "targets: [x:main]")
        try TestPipelines.drop(
            try Clips.make(width: 320, height: 240, seconds: 1), as: "short",
            sidecar: "title: twelve chars\ndescription: and then some more\nprivacy: public\n", into: config)
        let p = try await TestPipelines.runOnce(config)
        let drops = try p.context.ledger.drops()
        let deliveries = try p.context.ledger.allDeliveries()
        await p.close()
        let drop = try #require(drops.first)
        #expect(drop.reasonCode == "text_too_long" && deliveries.isEmpty)
        // "twelve chars" + blank line + 18 characters: 32 of X's weighted characters, against the profile's 20.
        #expect(
            drop.reasonMessage?.contains("x:main: the caption (title, description and hashtags) counts 32 of X's weighted characters; x allows 20") == true,
            "\(drop.reasonMessage ?? "")")
        #expect(drop.reasonLocation?.hasPrefix("short.yaml:2:") == true, "\(drop.reasonLocation ?? "")")
    }

    /// The rule a delivery carries is the one its adapter enforces: a caption the bundled profile takes
    /// is refused under a lowered one — by preflight and again by `deliver`, before anything is sent.
    @Test func theAdapterEnforcesTheRuleTheDeliveryCarries() async throws {
        var rules = try #require(PlatformFactsTests.catalog["x"]).text
        rules.caption?.limits = [TextLimit(max: 20, counts: .xWeighted)]
        var m = PublishMetadata(title: "twelve chars", description: "and then some more", tags: [], privacy: .public, publishAt: nil, options: [:])
        let adapter = PlatformFactsTests.adapter("x")
        #expect(adapter.preflight(m) == nil)
        m.text = rules
        #expect(adapter.preflight(m)?.code == .textTooLong)
        let clip = try TempDir().write("c.mp4", "not sent")
        let job = UploadJob(deliveryId: 1, filePath: clip.path, size: 8, metadata: m, session: nil, confirmedOffset: 0)
        // The account's endpoint is empty: had the adapter sent anything, this would be a network error.
        let e = await #expect(throws: DeliveryError.self) { _ = try await adapter.deliver(job, checkpoint: { _ in }, progress: { _, _ in }) }
        #expect(e?.kind == .permanent && e?.code == .textTooLong && e?.message.contains("allows 20") == true, "\(String(describing: e))")
    }

    /// X's and Threads' limits are their profiles' alone (no constant in the counters or the adapters): a
    /// caption one over the bundled limit is refused, and passes once the profile's limit is raised.
    @Test(arguments: ["x", "threads"]) func aRaisedCaptionLimitIsWhatTheAdapterHolds(_ platform: String) throws {
        let bundled = try #require(PlatformRegistry.descriptor(platform).flatMap { PlatformFactsTests.catalog[$0.defaultProfile] }?.text)
        let limit = try #require(bundled.caption?.limits.first)
        var m = PublishMetadata(title: String(repeating: "a", count: limit.max + 1), description: "", tags: [], privacy: .public, publishAt: nil, options: [:])
        let adapter = PlatformFactsTests.adapter(platform)
        #expect(adapter.preflight(m)?.code == .textTooLong)
        var raised = bundled
        raised.caption?.limits = [TextLimit(max: limit.max + 100, counts: limit.counts)]
        m.text = raised
        // Threads' adapter here has no media host, which its own check names after the text passed.
        #expect(adapter.preflight(m).map { $0.code } != .textTooLong, "\(String(describing: adapter.preflight(m)))")
    }

    /// Instagram's caption raised to 3000: a 2500-character caption passes validation and the adapter
    /// (the delivery carries the raised rule), and the sandbox — standing in for Instagram, whose limit is
    /// 2200 — refuses it with Instagram's own error, so the delivery fails with that reason and nothing is posted.
    @Test(.timeLimit(.minutes(4))) func aProfileThatRaisesInstagramsCaptionPassesUsButNotThePlatform() async throws {
        let dir = try TempDir()
        let mine = try Self.profilesFile(
            in: dir, replacing: "caption: {max: 2200, counts: graphemes, from: [title, description], tags: hashtags, max_hashtags",
            with: "caption: {max: 3000, counts: graphemes, from: [title, description], tags: hashtags, max_hashtags")
        let config = try TestPipelines.config(root: dir.url, extra: "profiles: \(mine)", targets: "targets: [instagram:main]")
        let long = String(repeating: "x", count: 2500)
        try TestPipelines.drop(
            try Clips.make(width: 320, height: 240, seconds: 3), as: "long",
            sidecar: "title: a long reel\ndescription: \(long)\nprivacy: public\n", into: config)
        let p = try await TestPipelines.runOnce(config)
        let deliveries = try p.context.ledger.allDeliveries()
        await p.close()
        let d = try #require(deliveries.first)
        let meta = try JSONCoding.decoder().decode(PublishMetadata.self, from: Data(d.metadataJson.utf8))
        #expect(meta.text?.caption?.limits == [TextLimit(max: 3000, counts: .graphemes)] && meta.text?.profile == "instagram_reels")
        #expect(d.state == .failed && d.remoteId == nil, "\(d.state)")
        #expect(d.errorMessage?.contains("caption is too long") == true, "\(d.errorCode ?? "") \(d.errorMessage ?? "")")
    }
}
