import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// Xiaohongshu through its recipe, in real headless Chromium against the sandbox's replica of the
/// creator center: what is particular to it. The failures every creator page can show (captcha, an
/// ended session, a redesign, an unconfirmed publish, decoys, an early publish) are
/// RecipeConformanceTests', for every recipe platform at once.
@Suite(.serialized) struct XiaohongshuTests {
    static func browsing(_ settings: AdapterSettings, evidence: URL? = nil) -> AdapterSettings { RecipeRig.browsing(settings, evidence: evidence) }

    static func run(
        faults: SandboxState.XiaohongshuFaults = .init(), recipe: String? = nil,
        _ body: (ConformanceRig, RecipeAdapter, URL) async throws -> Void
    ) async throws {
        try await RecipeRig.run(XiaohongshuPlatform.conformance, faults: faults, recipe: recipe, body)
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
