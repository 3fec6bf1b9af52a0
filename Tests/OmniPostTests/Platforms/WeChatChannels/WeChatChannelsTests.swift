import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// WeChat Channels through its recipe, in real headless Chromium against the sandbox's replica of
/// 视频号助手: a good post (its #topics in the description, the short title, the optional location
/// step done, decoys never used), absent optional steps skipped, publish never clicked early, each
/// failure classified with its screenshot, a changed page mended by an override, and a publish the
/// page never confirmed settled by the content list, not by publishing again.
@Suite(.serialized) struct WeChatChannelsTests {
    static let platform = "wechat_channels"

    static func run(
        faults: SandboxState.ReplicaFaults = .init(), recipe: String? = nil, costs: RecipeRig.Costs? = nil,
        _ body: (ConformanceRig, RecipeAdapter, URL) async throws -> Void
    ) async throws {
        try await RecipeRig.run(WeChatChannelsPlatform.conformance, faults: faults, recipe: recipe, costs: costs, body)
    }

    @Test(.timeLimit(.minutes(2))) func aGoodPostIsListedOnceWithItsTopicsAndNoDecoyIsUsed() async throws {
        let costs = RecipeRig.Costs()
        try await Self.run(costs: costs) { rig, adapter, _ in
            let t0 = ContinuousClock.now
            let out = try await rig.deliver(with: adapter)
            let posts = await rig.state.replicaPosts(Self.platform)
            #expect(posts.count == 1 && posts.first?.id == out.remoteId)
            #expect(posts.first?.sha256 == rig.sha256 && posts.first?.title == "Conformance clip")
            #expect(posts.first?.description.contains("sent exactly once #conformance") == true, "\(posts.first?.description ?? "")")
            // The optional steps the page had were done: the location hidden, "声明原创" ticked; no collection, skipped.
            #expect(posts.first?.extras["location"] == "hidden" && posts.first?.original == true)
            let misuse = await rig.state.replicaMisuse(Self.platform)
            #expect(misuse.decoys == 0 && misuse.earlyPublishes == 0)
            let cost = try #require(costs.sessions.last)
            print("wechat_channels: one post in \(ContinuousClock.now - t0); the browser session peaked at \(cost.bytes / 1_048_576) MiB over \(cost.seconds) s")
        }
    }

    @Test(.timeLimit(.minutes(2))) func anAbsentOptionalStepIsSkipped() async throws {
        var f = SandboxState.ReplicaFaults()
        f.noOriginalBox = true
        try await Self.run(faults: f) { rig, adapter, _ in
            try await rig.deliver(with: adapter)
            let posts = await rig.state.replicaPosts(Self.platform)
            #expect(posts.count == 1 && posts.first?.original == false)
        }
    }

    @Test(.timeLimit(.minutes(2))) func publishIsNotClickedBeforeTheUploadCompletesEvenWhenTheButtonIsEnabled() async throws {
        var f = SandboxState.ReplicaFaults()
        f.publishEnabledEarly = true
        f.chunkDelayMs = 400
        try await Self.run(faults: f) { rig, adapter, _ in
            try await rig.deliver(with: adapter)
            #expect(await rig.state.replicaMisuse(Self.platform).earlyPublishes == 0)
            #expect(await rig.state.replicaPublishRequests(Self.platform) == 1)
            #expect(await rig.state.replicaPosts(Self.platform).count == 1)
        }
    }

    @Test(.timeLimit(.minutes(2))) func aCaptchaIsNeedsHumanWithItsScreenshotAndIsNotRetried() async throws {
        var f = SandboxState.ReplicaFaults()
        f.captcha = true
        try await Self.run(faults: f) { rig, adapter, evidence in
            let e = try await RecipeRig.failure(rig, adapter)
            #expect(e.code == .needsHuman && e.kind == .permanent, "\(e)")
            let shots = RecipeRig.screenshots(evidence)
            #expect(shots.count == 1, "\(shots)")
            if let s = shots.first {
                #expect(try Data(contentsOf: evidence.appendingPathComponent(s)).starts(with: [0x89, 0x50, 0x4E, 0x47]))
                let html = try String(contentsOf: evidence.appendingPathComponent(s.replacingOccurrences(of: ".png", with: ".html")), encoding: .utf8)
                #expect(html.contains("拖动下方滑块完成拼图"))
            }
            #expect(await rig.state.replicaPosts(Self.platform).isEmpty)
        }
    }

    @Test(.timeLimit(.minutes(2))) func anExpiredCookieIsAuthRevokedWithTheCommandThatFixesIt() async throws {
        var f = SandboxState.ReplicaFaults()
        f.sessionExpired = true
        try await Self.run(faults: f) { rig, adapter, evidence in
            let e = try await RecipeRig.failure(rig, adapter)
            #expect(e.code == .authRevoked && e.kind == .reauthenticate, "\(e)")
            #expect(e.message.contains("omnipost accounts add <pipeline.yaml> wechat_channels:brand"), "\(e.message)")
            #expect(RecipeRig.screenshots(evidence).count == 1)
        }
    }

    static let changedLayoutOverride = RecipeRig.override(
        "wechat_channels",
        [
            ("text: \"上传时长8小时内，大小不超过20GB\"", "text: \"将视频拖到此处，或点击上传\""),
            ("{name: publish, action: publish, text: \"发表\"}", "{name: publish, action: publish, text: \"发布\"}")
        ])

    @Test(.timeLimit(.minutes(3))) func aChangedLayoutIsRecipeBrokenNamingTheStepAndAnOverrideMendsIt() async throws {
        var f = SandboxState.ReplicaFaults()
        f.changedLayout = true
        try await Self.run(faults: f) { rig, adapter, evidence in
            let e = try await RecipeRig.failure(rig, adapter)
            #expect(e.code == .recipeBroken && e.kind == .permanent, "\(e)")
            #expect(e.message.contains("step 'video'") && e.message.contains("上传时长8小时内，大小不超过20GB"), "\(e.message)")
            #expect(RecipeRig.screenshots(evidence).count == 1)
            #expect(await rig.state.replicaPosts(Self.platform).isEmpty)
        }
        try await Self.run(faults: f, recipe: Self.changedLayoutOverride) { rig, adapter, _ in
            try await rig.deliver(with: adapter)
            #expect(await rig.state.replicaPosts(Self.platform).count == 1)
        }
    }

    @Test(.timeLimit(.minutes(2))) func aPublishThePageNeverConfirmsIsSettledByTheContentListNotByPublishingAgain() async throws {
        var f = SandboxState.ReplicaFaults()
        f.silentPublish = true
        try await Self.run(faults: f) { rig, adapter, _ in
            let out = try await rig.deliver(with: adapter)
            let posts = await rig.state.replicaPosts(Self.platform)
            #expect(posts.count == 1 && posts.first?.id == out.remoteId)
            #expect(await rig.state.replicaPublishRequests(Self.platform) == 1)
        }
    }
}

/// WeChat Channels through a sandboxed pipeline run once: the drop validated against its profile (a
/// short title of 16 at most), the browser's cookies from the ledger, the post listed once.
@Suite struct WeChatChannelsPipelineTests {
    @Test(.timeLimit(.minutes(3))) func aDropIsPublishedThroughThePipeline() async throws {
        let dir = try TempDir()
        try await TestPipelines.publishOnce(
            dir, targets: "wechat_channels:main", extra: "accounts:\n  wechat_channels:main: {min_gap: 0s, jitter: 0s}\n",
            clip: try Clips.make(width: 540, height: 960, seconds: 2), stem: "wx",
            sidecar: "title: 海边散步\ndescription: 傍晚的海\ntags: [sea]\nprivacy: public\n"
        ) { p, deliveries in
            let posts = await p.sandbox!.state.replicaPosts("wechat_channels")
            #expect(posts.count == 1 && posts.first?.title == "海边散步" && posts.first?.description.contains("傍晚的海 #sea") == true, "\(posts)")
            #expect(deliveries.first?.remoteId == posts.first?.id)
            let jars = try p.context.ledger.cookieJars()
            #expect(jars.contains { $0.account == "wechat_channels:main" })
        }
    }
}
