import Foundation
import OmniPostCore
import Testing

@Suite struct PipelineConfigTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func demoPipelineParses() throws {
        let c = try PipelineConfig.load(path: Self.repoRoot.appendingPathComponent("pipelines/demo.yaml").path)
        #expect(c.name == "demo")
        #expect(c.sandbox == .embedded)
        #expect(c.targets.map(\.name) == ["youtube:main", "shorts:main"])
        #expect(c.targets[1].profile == "youtube_shorts" && c.targets[1].accountKey == "youtube:main")
        #expect(c.upload.chunkSize == 262_144)
        #expect(c.watch.settle == .milliseconds(500))
        #expect(c.paths.inbox.path.hasSuffix("demo-state/inbox"))
        #expect(c.accounts["youtube:main"] != nil)
    }

    @Test func errorsPointAtTheLine() throws {
        let cases: [(String, ReasonCode, String)] = [
            ("targets: [youtube:main]\nupload: {chunk_size: 100KiB}\n", .configInvalid, "test.yaml:2:22"),
            ("targets: [youtub:main]\nsandbox: embedded\n", .configInvalid, "test.yaml:1:11"),
            ("targets: [youtube:main]\nwatch: {mode: inotfy}\n", .configInvalid, "test.yaml:2:15"),
            ("targets: [youtube:main]\nsandbx: embedded\n", .unknownKey, "test.yaml:2:1"),
            ("targets: [youtube:main]\n", .configInvalid, "test.yaml:1:10"),
        ]
        for (text, code, loc) in cases {
            let e = try #require(throws: OmniError.self) {
                try PipelineConfig.parse(text: text, file: "test.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
            }
            #expect(e.code == code, "\(text)")
            #expect(e.location?.description == loc, "\(text) → \(e)")
        }
    }

    @Test func bundledProfilesLoadAndCoverEveryPlatform() throws {
        let p = try ProfileCatalog.bundled()
        for name in ["youtube", "youtube_shorts", "tiktok", "instagram_reels", "facebook_reels", "threads", "x", "linkedin", "bluesky", "reddit", "vimeo", "any"] {
            #expect(p[name] != nil, "missing profile \(name)")
        }
        #expect(p["youtube_shorts"]?.durationS.max == 180)
        #expect(p["youtube"]?.text.titleMax == 100)
    }
}
