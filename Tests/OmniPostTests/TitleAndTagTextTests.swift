import Foundation
import OmniPostCore
import OmniPostPlatforms
@testable import OmniPostPipeline
import Testing

/// DropRules' text steps, as the validate stage runs them for one target.
enum DropRulesProbe {
    static func oneLine(_ s: String) -> String { DropRules.oneLine(s) }
    static func metadata(_ config: PipelineConfig, _ m: Manifest) throws -> PublishMetadata {
        let rules = try DropRules.forChecking(config)
        let t = config.targets[0]
        return try rules.metadata(for: t, manifest: m, vars: rules.sampleVariables(for: m, stem: "t", now: Date()), profile: try rules.profile(of: t))
    }
}

/// What a title and tags become on their way out (an independent check: U+2028 in a title was sent as
/// is, a second line; `tags: ["", " "]` reached YouTube as two tags).
@Suite struct OneLineAndEmptyTagsTests {
    @Test func everyLineBreakInATitleBecomesASpace() {
        #expect(DropRulesProbe.oneLine("a\u{2028}b\u{2029}c\u{85}d\u{0B}e\u{0C}f\r\ng\th") == "a b c d e f g h")
        #expect(DropRulesProbe.oneLine("plain title") == "plain title")
    }

    @Test func aTagOfNothingButSpacesIsNotSent() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]")
        let m = try Manifest.parse(text: "title: t\ntags: [\"\", \" \", \" kept \", b]\n", file: "t.yaml")
        let meta = try DropRulesProbe.metadata(config, m)
        #expect(meta.tags == ["kept", "b"], "\(meta.tags)")
    }
}
