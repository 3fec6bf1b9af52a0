import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Douyin and Kuaishou through their creator pages, for an account that says `via: browser`: the
/// same recipe machinery as Xiaohongshu's, in real headless Chromium against the sandbox's replicas.
/// What every creator page must survive is RecipeConformanceTests'; here is what the fallback adds.
/// Kuaishou's page enables "发布" while the upload still runs; the recipe's wait is what holds the click.
@Suite(.serialized) struct BrowserFallbackTests {
    static func fixture(_ module: any PlatformModule.Type) -> ConformanceFixture { RecipeConformanceTests.viaBrowser(module) }

    @Test(.timeLimit(.minutes(2))) func aDouyinAccountThatSaysViaBrowserPostsThroughTheCreatorPage() async throws {
        try await RecipeRig.run(Self.fixture(DouyinPlatform.self)) { rig, adapter, _ in
            // The registry's adapter for such an account is the recipe's, not the Open Platform's.
            #expect(DouyinPlatform.makeAdapter(rig.settings) is RecipeAdapter)
            // The post itself, its failures and its redesign are RecipeConformanceTests' (the `douyin` case).
            try await rig.deliver(with: adapter)
            #expect(await rig.state.replicaPosts("douyin").count == 1)
            // Nothing went through the API.
            let items = await rig.state.douyinItems(of: "douyin:brand")
            #expect(await rig.state.requestCounts["douyin.init"] == nil && items.isEmpty)
        }
    }

    @Test(.timeLimit(.minutes(2))) func kuaishousPageLetsPublishBeClickedEarlyAndTheUploadIsWaitedFor() async throws {
        var f = SandboxState.ReplicaFaults()
        f.chunkDelayMs = 300
        try await RecipeRig.run(Self.fixture(KuaishouPlatform.self), faults: f) { rig, adapter, _ in
            #expect(KuaishouPlatform.makeAdapter(rig.settings) is RecipeAdapter)
            let out = try await rig.deliver(with: adapter)
            // One publish asked, none before the upload completed, though the button was enabled throughout.
            #expect(await rig.state.replicaMisuse("kuaishou").earlyPublishes == 0)
            #expect(await rig.state.replicaPublishRequests("kuaishou") == 1)
            let posts = await rig.state.replicaPosts("kuaishou")
            // No title field: the title is the description's first line, which the works list shows.
            #expect(posts.count == 1 && posts.first?.id == out.remoteId && posts.first?.title == "Conformance clip", "\(posts)")
            #expect(posts.first?.description.hasPrefix("Conformance clip\n") == true && posts.first?.sha256 == rig.sha256)
        }
    }

    @Test func viaTakesApiOrBrowserAtItsLine() throws {
        let dir = try TempDir()
        let text = "version: 1\nroot: \(dir.url.path)\nsandbox: embedded\ntargets: [douyin:alt]\naccounts:\n  douyin:alt: {via: chrome}\n"
        let e = #expect(throws: OmniError.self) { _ = try PlatformRegistry.parse(text: text, file: "p.yaml", baseDirectory: dir.url) }
        #expect(e?.code == .invalidValue && e?.location?.description.hasPrefix("p.yaml:6:") == true, "\(String(describing: e))")
    }
}
