import Foundation
@testable import OmniPostIngest
import OmniPostCore
import Testing

/// Foundation on Linux traps in `NSString.deletingLastPathComponent` for a one-character path: a file
/// named `a` (or `7`, `é`) in the inbox crashed the daemon at every start, and a clip `a.mp4` with
/// subtitles beside it crashed the run. Every parent is taken by `PathText.parent` now; these are its
/// answers, the two places that crashed, and a rule that keeps the trap out of the sources.
@Suite struct PathTextTests {
    @Test func theParentOfAPathIsFoundationsAnswerWithoutItsTrap() {
        let cases: [(String, String)] = [
            ("a/b", "a"), ("/a", "/"), ("a", ""), ("é", ""), ("7", ""), ("a/", ""), ("a/b/", "a"), ("/", "/"), ("", ""),
            ("trips/2026/walk.mp4", "trips/2026"), ("/tmp//x", "/tmp"), ("//a", "/"), ("a//b", "a"),
            // A combining mark after the slash makes one Character with it: still the folder's slash.
            ("dir/\u{301}x.yaml", "dir"), ("é/ü/\u{200D}z", "é/ü")
        ]
        for (path, parent) in cases {
            #expect(PathText.parent(path) == parent, "\(path)")
            // Where Foundation does not trap, the same answer — but for a combining mark after a slash,
            // where Foundation (by Characters) loses the folder and the file system (by bytes) does not.
            if path.count > 1, !(path.count == 2 && path.hasSuffix("/")), !path.unicodeScalars.contains(where: { $0.properties.generalCategory == .nonspacingMark || $0 == "\u{200D}" }) {
                #expect((path as NSString).deletingLastPathComponent == parent, "Foundation on \(path)")
            }
        }
    }

    @Test func oneCharacterNamesAreGroupedAndPairedWithoutATrap() {
        func fact(_ rel: String) -> FileFact { FileFact(relPath: rel, size: 1, mtime: 1, inode: 1) }
        let order = InboxWatcher.fairOrder([fact("a"), fact("7"), fact("é"), fact("x/b")]).map(\.relPath)
        #expect(Set(order) == ["a", "7", "é", "x/b"])
        #expect(SubtitleTrack.language(of: "a.en.srt", stem: "a") == "en")
        #expect(SubtitleTrack.language(of: "x/a.pt-BR.vtt", stem: "x/a") == "pt-BR")
        #expect(SubtitleTrack.language(of: "b.en.srt", stem: "a") == nil)
    }

    /// The rule: no `NSString.deletingLastPathComponent` in the sources (`URL`'s is another implementation).
    @Test func noSourceTakesAParentThroughNSString() throws {
        let root = PipelineConfigTests.repoRoot.appendingPathComponent("Sources")
        var offenders: [String] = []
        for case let url as URL in FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)! where url.pathExtension == "swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.contains(").deletingLastPathComponent") && !line.contains("deletingLastPathComponent()") && !line.trimmingCharacters(in: .whitespaces).hasPrefix("///") {
                offenders.append("\(url.path.dropFirst(root.path.count + 1)):\(n + 1)")
            }
        }
        #expect(offenders.isEmpty, "use PathText.parent: \(offenders)")
    }
}
