import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Xiaohongshu through its recipe, in real headless Chromium against the sandbox's replica of the
/// creator center: a good post, each failure the page can show classified (with its screenshot and
/// page saved), decoys never used, publish never clicked before the upload completed, an override
/// recipe mending a changed page, and a publish the page never confirmed settled by the content list.
@Suite(.serialized) struct XiaohongshuTests {
    static func browsing(_ settings: AdapterSettings, evidence: URL? = nil) -> AdapterSettings { RecipeRig.browsing(settings, evidence: evidence) }

    static func run(
        faults: SandboxState.XiaohongshuFaults = .init(), recipe: String? = nil,
        _ body: (ConformanceRig, RecipeAdapter, URL) async throws -> Void
    ) async throws {
        try await RecipeRig.run(XiaohongshuPlatform.conformance, faults: faults, recipe: recipe, body)
    }

    static func failure(_ rig: ConformanceRig, _ adapter: RecipeAdapter) async throws -> DeliveryError { try await RecipeRig.failure(rig, adapter) }
    static func screenshots(_ folder: URL) -> [String] { RecipeRig.screenshots(folder) }

    @Test(.timeLimit(.minutes(2))) func aGoodPostIsListedOnceWithItsBytesAndNoDecoyIsUsed() async throws {
        try await Self.run { rig, adapter, _ in
            let t0 = ContinuousClock.now
            let out = try await rig.deliver(with: adapter)
            let notes = await rig.state.xiaohongshuNotes()
            #expect(notes.count == 1)
            #expect(notes.first?.id == out.remoteId)
            #expect(notes.first?.sha256 == rig.sha256)
            #expect(notes.first?.title == "Conformance clip")
            #expect(notes.first?.description.contains("sent exactly once #conformance") == true, "\(notes.first?.description ?? "")")
            // The optional "声明原创" box was there and ticked.
            #expect(notes.first?.original == true)
            let misuse = await rig.state.xiaohongshuMisuse()
            #expect(misuse.decoys == 0 && misuse.earlyPublishes == 0)
            print("xiaohongshu: one post in \(ContinuousClock.now - t0)")
        }
    }

    @Test(.timeLimit(.minutes(2))) func anAbsentOptionalStepIsSkipped() async throws {
        var f = SandboxState.XiaohongshuFaults()
        f.noOriginalBox = true
        try await Self.run(faults: f) { rig, adapter, _ in
            try await rig.deliver(with: adapter)
            let notes = await rig.state.xiaohongshuNotes()
            #expect(notes.count == 1 && notes.first?.original == false)
        }
    }

    @Test(.timeLimit(.minutes(2))) func publishIsNotClickedBeforeTheUploadCompletesEvenWhenTheButtonIsEnabled() async throws {
        var f = SandboxState.XiaohongshuFaults()
        f.publishEnabledEarly = true
        f.chunkDelayMs = 400
        try await Self.run(faults: f) { rig, adapter, _ in
            try await rig.deliver(with: adapter)
            #expect(await rig.state.xiaohongshuMisuse().earlyPublishes == 0)
            #expect(await rig.state.xiaohongshuPublishRequests() == 1)
            #expect(await rig.state.xiaohongshuNotes().count == 1)
        }
    }

    @Test(.timeLimit(.minutes(2))) func aCaptchaIsNeedsHumanWithItsScreenshotAndIsNotRetried() async throws {
        var f = SandboxState.XiaohongshuFaults()
        f.captcha = true
        try await Self.run(faults: f) { rig, adapter, evidence in
            let e = try await Self.failure(rig, adapter)
            #expect(e.code == .needsHuman && e.kind == .permanent, "\(e)")
            #expect(e.message.contains("captcha"), "\(e.message)")
            let shots = Self.screenshots(evidence)
            #expect(shots.count == 1, "\(shots)")
            if let s = shots.first {
                let png = try Data(contentsOf: evidence.appendingPathComponent(s))
                #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
                let html = try String(contentsOf: evidence.appendingPathComponent(s.replacingOccurrences(of: ".png", with: ".html")), encoding: .utf8)
                #expect(html.contains("请完成安全验证"))
            }
            #expect(await rig.state.xiaohongshuNotes().isEmpty)
        }
    }

    @Test(.timeLimit(.minutes(2))) func anEndedSessionIsAuthRevokedWithTheCommandThatFixesIt() async throws {
        var f = SandboxState.XiaohongshuFaults()
        f.sessionExpired = true
        try await Self.run(faults: f) { rig, adapter, evidence in
            let e = try await Self.failure(rig, adapter)
            #expect(e.code == .authRevoked && e.kind == .reauthenticate, "\(e)")
            #expect(e.message.contains("omnipost accounts add <pipeline.yaml> xiaohongshu:brand"), "\(e.message)")
            #expect(Self.screenshots(evidence).count == 1)
        }
    }

    @Test(.timeLimit(.minutes(2))) func tooFrequentWaitsHalfAnHour() async throws {
        var f = SandboxState.XiaohongshuFaults()
        f.rateLimited = true
        try await Self.run(faults: f) { rig, adapter, _ in
            let t0 = Date()
            let e = try await Self.failure(rig, adapter)
            #expect(e.code == .rateLimited, "\(e)")
            if case .retryAt(let at) = e.kind { #expect(at.timeIntervalSince(t0) >= 1790) } else { Issue.record("\(e.kind)") }
        }
    }

    static let changedLayoutOverride = RecipeRig.override(
        "xiaohongshu",
        [
            ("placeholder: \"填写标题会有更多赞哦～\"", "placeholder: \"添加标题\""),
            ("{name: publish, action: publish, text: \"发布\"}", "{name: publish, action: publish, text: \"立即发布\"}"),
            ("text: \"拖拽视频到此或点击上传\"", "text: \"点击或拖拽上传视频\"")
        ])

    @Test(.timeLimit(.minutes(3))) func aChangedLayoutIsRecipeBrokenNamingTheStepAndAnOverrideMendsIt() async throws {
        var f = SandboxState.XiaohongshuFaults()
        f.changedLayout = true
        try await Self.run(faults: f) { rig, adapter, evidence in
            let e = try await Self.failure(rig, adapter)
            #expect(e.code == .recipeBroken && e.kind == .permanent, "\(e)")
            #expect(e.message.contains("step 'video'") && e.message.contains("拖拽视频到此或点击上传"), "\(e.message)")
            #expect(Self.screenshots(evidence).count == 1)
            #expect(await rig.state.xiaohongshuNotes().isEmpty)
        }
        try await Self.run(faults: f, recipe: Self.changedLayoutOverride) { rig, adapter, _ in
            try await rig.deliver(with: adapter)
            #expect(await rig.state.xiaohongshuNotes().count == 1)
        }
    }

    @Test(.timeLimit(.minutes(2))) func aPublishThePageNeverConfirmsIsSettledByTheContentListNotByPublishingAgain() async throws {
        var f = SandboxState.XiaohongshuFaults()
        f.silentPublish = true
        try await Self.run(faults: f) { rig, adapter, _ in
            let out = try await rig.deliver(with: adapter)
            let notes = await rig.state.xiaohongshuNotes()
            #expect(notes.count == 1 && notes.first?.id == out.remoteId)
            #expect(await rig.state.xiaohongshuPublishRequests() == 1)
        }
    }

    @Test(.timeLimit(.minutes(2))) func aTitleOfTheSameNameAlreadyListedIsNotTakenForThisPost() async throws {
        try await Self.run { rig, adapter, _ in
            try await rig.deliver(with: adapter)
            // A second post of the same title: the first note is not mistaken for it.
            let second = try await rig.deliver(with: adapter)
            let notes = await rig.state.xiaohongshuNotes()
            #expect(notes.count == 2)
            #expect(second.remoteId == notes.last?.id)
        }
    }
}

/// Xiaohongshu through a sandboxed pipeline run once, beside YouTube: the drop validated against its
/// profile, the browser's cookies taken from (and renewed in) the ledger, the note listed once.
@Suite struct XiaohongshuPipelineTests {
    @Test(.timeLimit(.minutes(3))) func aDropIsPublishedThroughThePipelineAndItsCookiesRenewed() async throws {
        let dir = try TempDir()
        try await TestPipelines.publishOnce(
            dir, targets: "youtube:main, xiaohongshu:main", extra: "accounts:\n  xiaohongshu:main: {min_gap: 0s, jitter: 0s}\n",
            sidecar: "title: 海边散步\ndescription: 傍晚的海\ntags: [sea]\nprivacy: public\n"
        ) { p, deliveries in
            let notes = await p.sandbox!.state.xiaohongshuNotes()
            #expect(notes.count == 1)
            #expect(notes.first?.title == "海边散步" && notes.first?.description.contains("傍晚的海 #sea") == true, "\(notes)")
            let xhs = try #require(deliveries.first { $0.platform == "xiaohongshu" })
            #expect(xhs.remoteId == notes.first?.id)
            // The session the browser ended with is what the next post starts from.
            #expect(try p.context.ledger.cookieJars().contains { $0.account == "xiaohongshu:main" })
        }
    }
}
