import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// WeChat Channels through its recipe, in real headless Chromium against the sandbox's replica of
/// 视频号助手: what is particular to it — its #topics in the description, the short title, the optional
/// location step done. The failures every creator page can show are RecipeConformanceTests'.
@Suite(.serialized) struct WeChatChannelsTests {
    static let platform = "wechat_channels"

    static func run(
        faults: SandboxState.ReplicaFaults = .init(), recipe: String? = nil, costs: RecipeRig.Costs? = nil,
        _ body: (ConformanceRig, RecipeAdapter, URL) async throws -> Void
    ) async throws {
        try await RecipeRig.run(WeChatChannelsPlatform.conformance, faults: faults, recipe: recipe, costs: costs, body)
    }

    @Test(.timeLimit(.minutes(2))) func aGoodPostCarriesItsTopicsAndTheOptionalSteps() async throws {
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
