import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import OmniPostPlatforms
import OmniPostSandbox
import Testing

/// `chapters:` in a sidecar: written into the description as `0:00 Title` lines for a platform that
/// shows chapters from it (YouTube, by its profile's `chapters:` rule), left out for the others, and
/// refused at the entry's line with `chapters_invalid` when they break the platform's rules.
@Suite struct ChaptersTests {
    static let chapters = """
        chapters:
          - 0:00 Intro
          - {at: "0:12", title: The climb}
          - 0:25 Summit
        """

    @Test func chaptersAreWrittenIntoTheDescriptionOfAPlatformThatShowsThem() async throws {
        let dir = try TempDir()
        try await TestPipelines.publishOnce(
            dir, targets: "youtube:main, x:main", clip: try Clips.make(width: 320, height: 240, seconds: 36),
            sidecar: "title: A hike\ndescription: Up the hill.\nprivacy: public\n" + Self.chapters + "\n"
        ) { p, _ in
            let videos = await p.sandbox!.state.allVideos()
            let youtube = try #require(videos.first { $0.platform == "youtube" })
            #expect(youtube.description == "Up the hill.\n\n0:00 Intro\n0:12 The climb\n0:25 Summit")
            let x = try #require(videos.first { $0.platform == "x" })
            #expect(!x.description.contains("0:12"), "X shows no chapters: \(x.description)")
        }
    }

    /// Each rule YouTube shows chapters by, broken in a sidecar: the code, the rule in words, and the line
    /// of the entry that breaks it (the list's own for a rule of the whole).
    @Test(arguments: [
        ("chapters: [0:05 Intro, 0:20 Middle, 0:40 End]", "the first starts at 0:00", 2),
        ("chapters: [0:00 Intro, 0:20 End]", "at least 3", 2),
        ("chapters:\n  - 0:00 Intro\n  - 0:05 Middle\n  - 0:30 End", "at least 10 s long", 4),
        ("chapters:\n  - 0:00 Intro\n  - 0:30 Middle\n  - 0:20 End", "ascending order", 5),
        ("chapters:\n  - 0:00 Intro\n  - 0:7 Middle", "`m:ss Title`", 4),
        ("chapters:\n  - {at: \"0:00\"}", "needs `at:` and `title:`", 3),
        // A start no clip reaches: refused at its line (as whole seconds it overflowed: `run` and `check` crashed).
        ("chapters:\n  - 0:00 Intro\n  - 0:10 Middle\n  - 9300000000000000000 End", "past any clip's length", 5),
        ("chapters:\n  - 0:00 Intro\n  - {at: \"99999999999:00:00\", title: End}", "past any clip's length", 4)
    ])
    func chaptersThatBreakTheRulesAreAnsweredAtTheirLine(_ yaml: String, _ said: String, _ line: Int) throws {
        let rule = try #require(try ProfileCatalog.bundled()["youtube"]?.text.chapters)
        let e: OmniError
        do {
            let m = try Manifest.parse(text: "title: x\n\(yaml)\n", file: "c.yaml")
            e = try #require(rule.problem(m.chapters ?? [], durationS: 60, platform: "youtube:main", at: m.chaptersLocation))
        } catch let parse as OmniError {
            e = parse
        }
        #expect(e.code == .chaptersInvalid)
        #expect(e.message.contains(said), "\(e.message)")
        #expect(e.location?.line == line, "\(e.location.map { "\($0)" } ?? "no location")")
    }

    /// The clip's length is only known once it is probed: a last chapter too near its end fails the drop
    /// with the chapter's line in the failure report, and the original is kept.
    @Test func aLastChapterPastTheClipsEndFailsTheDropAtItsLine() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]")
        try TestPipelines.drop(
            try Clips.make(width: 320, height: 240, seconds: 30), as: "hike", sidecar: "title: A hike\n" + Self.chapters + "\n", into: config)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let drop = try #require(try p.context.ledger.drops().first)
            #expect(drop.state == .failed && drop.reasonCode == "chapters_invalid", "\(drop.reasonCode ?? "") \(drop.reasonMessage ?? "")")
            #expect(drop.reasonMessage?.contains("lasts 5 s to the clip's end") == true, "\(drop.reasonMessage ?? "")")
            #expect(drop.reasonLocation == "hike.yaml:5:5")
            #expect(FileManager.default.fileExists(atPath: config.paths.failed.appendingPathComponent("\(drop.id)/hike.mp4").path))
        }
    }
}
