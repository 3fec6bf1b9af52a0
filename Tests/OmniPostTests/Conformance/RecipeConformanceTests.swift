import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Every platform published by driving its creator page — Xiaohongshu and WeChat Channels always,
/// Douyin and Kuaishou for an account that says `via: browser` — through the same failures, written
/// once here (issue 28): a good post with no decoy used, an absent optional step skipped, publish never
/// clicked before the upload completed, a captcha → `needs_human` with its screenshot and page, an
/// ended session → `auth_revoked` naming the command that fixes it, "too frequent" → a 30-minute wait,
/// a redesigned page → `recipe_broken` naming the step and anchor and mended by an override, and a
/// publish the page never confirmed settled by the content list, not by publishing again.
/// Each platform brings only its case: the fixture and how its replica's redesign reads. A bundled
/// recipe without a case fails `everyBundledRecipeHasACase`.
@Suite(.serialized) struct RecipeConformanceTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let fixture: ConformanceFixture
        /// The edits (old, new) a user makes to the bundled recipe for the replica's redesigned page.
        let redesign: [Edit]
        struct Edit: Sendable {
            let old: String
            let new: String
        }
        var platform: String { fixture.module.descriptor.name }
        var testDescription: String { platform }
        var recipe: Recipe { get throws { try RecipeCatalog.bundled(platform) } }
    }

    /// Douyin's and Kuaishou's creator pages, for an account that says `via: browser`.
    static func viaBrowser(_ module: any PlatformModule.Type) -> ConformanceFixture {
        ConformanceFixture(
            module: module, size: 600_000, accountYAML: { _ in "    via: browser\n    min_gap: 0s\n    jitter: 0s\n" },
            adapter: { settings in RecipeAdapter(RecipeRig.browsing(settings)) },
            cut: .notApplicable("browser"), forget: .notApplicable("browser"), refusal: .notApplicable("browser"), lapse: .notApplicable("browser"),
            processing: .notApplicable("browser"), pipelineFailure: .notApplicable("browser"))
    }

    /// The shared creator-page replica (Douyin, Kuaishou) redesigns its upload area and publish button.
    static func creatorPageRedesign(_ upload: String, publish: String) -> [Case.Edit] {
        [
            .init(old: "text: \"\(upload)\"", new: "text: \"选择视频文件上传\""),
            .init(old: "{name: publish, action: publish, text: \"\(publish)\"", new: "{name: publish, action: publish, text: \"立即发布\"")
        ]
    }

    static let cases: [Case] = [
        Case(
            fixture: XiaohongshuPlatform.conformance,
            redesign: [
                .init(old: "placeholder: \"填写标题\"", new: "placeholder: \"添加标题\""),
                .init(old: "{name: publish, action: publish, text: \"发布\"}", new: "{name: publish, action: publish, text: \"立即发布\"}"),
                .init(old: "text: \"拖拽视频到此或点击上传\"", new: "text: \"点击或拖拽上传视频\"")
            ]),
        Case(
            fixture: WeChatChannelsPlatform.conformance,
            redesign: [
                .init(old: "text: \"上传时长8小时内，大小不超过20GB\"", new: "text: \"将视频拖到此处，或点击上传\""),
                .init(old: "{name: publish, action: publish, text: \"发表\"}", new: "{name: publish, action: publish, text: \"发布\"}")
            ]),
        Case(fixture: viaBrowser(DouyinPlatform.self), redesign: creatorPageRedesign("点击上传 或直接将视频文件拖入此区域", publish: "发布")),
        Case(fixture: viaBrowser(KuaishouPlatform.self), redesign: creatorPageRedesign("上传视频", publish: "发布"))
    ]

    static func run(
        _ c: Case, faults: SandboxState.ReplicaFaults = .init(), redesigned: Bool = false, costs: RecipeRig.Costs? = nil,
        _ body: (ConformanceRig, RecipeAdapter, URL) async throws -> Void
    ) async throws {
        let recipe = redesigned ? RecipeRig.override(c.platform, c.redesign.map { ($0.old, $0.new) }) : nil
        try await RecipeRig.run(c.fixture, faults: faults, recipe: recipe, costs: costs, body)
    }

    @Test func everyBundledRecipeHasACase() throws {
        let folder = try #require(Bundle.module.url(forResource: "recipes", withExtension: nil))
        let bundled = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }
        #expect(Set(bundled) == Set(Self.cases.map(\.platform)), "a platform driven by a recipe needs a case in RecipeConformanceTests.cases")
        // Each redesign edit finds its text in the bundled recipe, so an edit made stale by a recipe change fails here.
        for c in Self.cases {
            let text = RecipeRig.override(c.platform, [])
            for e in c.redesign { #expect(text.contains(e.old), "\(c.platform): the recipe no longer has \(e.old)") }
        }
    }

    @Test(.timeLimit(.minutes(3)), arguments: cases)
    func aGoodPostIsListedOnceAndNoDecoyIsUsed(_ c: Case) async throws {
        let costs = RecipeRig.Costs()
        try await Self.run(c, costs: costs) { rig, adapter, _ in
            let t0 = ContinuousClock.now
            let out = try await rig.deliver(with: adapter)
            let posts = await rig.state.replicaPosts(c.platform)
            #expect(posts.count == 1 && posts.first?.id == out.remoteId, "\(posts)")
            #expect(posts.first?.sha256 == rig.sha256 && posts.first?.title == "Conformance clip", "\(posts)")
            #expect(posts.first?.description.contains("#conformance") == true, "\(posts.first?.description ?? "")")
            let misuse = await rig.state.replicaMisuse(c.platform)
            #expect(misuse.decoys == 0 && misuse.earlyPublishes == 0)
            #expect(await rig.state.replicaPublishRequests(c.platform) == 1)
            if let cost = costs.sessions.last {
                print("recipe conformance: \(c.platform) one post in \(ContinuousClock.now - t0); the browser peaked at \(cost.bytes / 1_048_576) MiB over \(cost.seconds) s")
            }
        }
    }

    @Test(.timeLimit(.minutes(3)), arguments: cases)
    func anAbsentOptionalStepIsSkipped(_ c: Case) async throws {
        var f = SandboxState.ReplicaFaults()
        f.noOriginalBox = true
        try await Self.run(c, faults: f) { rig, adapter, _ in
            try await rig.deliver(with: adapter)
            let posts = await rig.state.replicaPosts(c.platform)
            #expect(posts.count == 1 && posts.first?.original == false, "\(posts)")
        }
    }

    @Test(.timeLimit(.minutes(3)), arguments: cases)
    func publishIsNotClickedBeforeTheUploadCompletesEvenWhenTheButtonIsEnabled(_ c: Case) async throws {
        var f = SandboxState.ReplicaFaults()
        f.publishEnabledEarly = true
        f.chunkDelayMs = 400
        try await Self.run(c, faults: f) { rig, adapter, _ in
            try await rig.deliver(with: adapter)
            #expect(await rig.state.replicaMisuse(c.platform).earlyPublishes == 0)
            #expect(await rig.state.replicaPublishRequests(c.platform) == 1)
            #expect(await rig.state.replicaPosts(c.platform).count == 1)
        }
    }

    @Test(.timeLimit(.minutes(3)), arguments: cases)
    func aCaptchaIsNeedsHumanWithItsScreenshotAndPageAndIsNotRetried(_ c: Case) async throws {
        // The words the recipe takes for a captcha are the ones the page shows: kept with the screenshot.
        let rule = try #require(try c.recipe.failures.first { $0.verdict == .needsHuman })
        guard case .shown(let shown) = rule.when else { Issue.record("\(c.platform): its captcha rule reads no words on the page"); return }
        let says = shown.value
        var f = SandboxState.ReplicaFaults()
        f.captcha = true
        try await Self.run(c, faults: f) { rig, adapter, evidence in
            let e = try await RecipeRig.failure(rig, adapter)
            #expect(e.code == .needsHuman && e.kind == .permanent, "\(e)")
            let shots = RecipeRig.screenshots(evidence)
            #expect(shots.count == 1, "\(shots)")
            if let s = shots.first {
                #expect(try Data(contentsOf: evidence.appendingPathComponent(s)).starts(with: [0x89, 0x50, 0x4E, 0x47]))
                let html = try String(contentsOf: evidence.appendingPathComponent(s.replacingOccurrences(of: ".png", with: ".html")), encoding: .utf8)
                #expect(html.contains(says), "\(c.platform): the saved page lacks \(says)")
            }
            #expect(await rig.state.replicaPosts(c.platform).isEmpty)
            #expect(await rig.state.replicaPublishRequests(c.platform) == 1)
        }
    }

    @Test(.timeLimit(.minutes(3)), arguments: cases)
    func anEndedSessionIsAuthRevokedWithTheCommandThatFixesIt(_ c: Case) async throws {
        var f = SandboxState.ReplicaFaults()
        f.sessionExpired = true
        try await Self.run(c, faults: f) { rig, adapter, evidence in
            let e = try await RecipeRig.failure(rig, adapter)
            #expect(e.code == .authRevoked && e.kind == .reauthenticate, "\(e)")
            #expect(e.message.contains("omnipost accounts add <pipeline.yaml> \(c.platform):brand"), "\(e.message)")
            #expect(RecipeRig.screenshots(evidence).count == 1)
            #expect(await rig.state.replicaPosts(c.platform).isEmpty)
        }
    }

    @Test(.timeLimit(.minutes(3)), arguments: cases)
    func tooFrequentWaitsHalfAnHour(_ c: Case) async throws {
        var f = SandboxState.ReplicaFaults()
        f.rateLimited = true
        try await Self.run(c, faults: f) { rig, adapter, _ in
            let t0 = Date()
            let e = try await RecipeRig.failure(rig, adapter)
            #expect(e.code == .rateLimited, "\(e)")
            if case .retryAt(let at) = e.kind { #expect(at.timeIntervalSince(t0) >= 1790) } else { Issue.record("\(c.platform): \(e.kind)") }
            #expect(await rig.state.replicaPosts(c.platform).isEmpty)
        }
    }

    @Test(.timeLimit(.minutes(4)), arguments: cases)
    func aRedesignedPageIsRecipeBrokenNamingTheStepAndAnOverrideMendsIt(_ c: Case) async throws {
        let anchor = try #require(try c.recipe.steps.first { $0.name == "video" }?.anchor?.value)
        var f = SandboxState.ReplicaFaults()
        f.changedLayout = true
        try await Self.run(c, faults: f) { rig, adapter, evidence in
            let e = try await RecipeRig.failure(rig, adapter)
            #expect(e.code == .recipeBroken && e.kind == .permanent, "\(e)")
            #expect(e.message.contains("step 'video'") && e.message.contains(anchor), "\(e.message)")
            #expect(RecipeRig.screenshots(evidence).count == 1)
            #expect(await rig.state.replicaPosts(c.platform).isEmpty)
        }
        try await Self.run(c, faults: f, redesigned: true) { rig, adapter, _ in
            try await rig.deliver(with: adapter)
            #expect(await rig.state.replicaPosts(c.platform).count == 1)
        }
    }

    @Test(.timeLimit(.minutes(3)), arguments: cases)
    func aPublishThePageNeverConfirmsIsSettledByTheContentListNotByPublishingAgain(_ c: Case) async throws {
        var f = SandboxState.ReplicaFaults()
        f.silentPublish = true
        try await Self.run(c, faults: f) { rig, adapter, _ in
            let out = try await rig.deliver(with: adapter)
            let posts = await rig.state.replicaPosts(c.platform)
            #expect(posts.count == 1 && posts.first?.id == out.remoteId, "\(posts)")
            #expect(await rig.state.replicaPublishRequests(c.platform) == 1)
        }
    }
}
