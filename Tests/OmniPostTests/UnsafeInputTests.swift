import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPipeline
import Testing

/// Hostile and odd inputs through the whole pipeline: each gets its code and sentence, the original
/// is kept in failed/, and the daemon keeps going with the next drop.
@Suite(.serialized) struct UnsafeInputTests {
    @Test func unsafeReferencesAndHostileSidecarsAreRejectedAndKept() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url.appendingPathComponent("p"), targets: "targets: [youtube:main]", grace: "1s")
        let inbox = config.paths.inbox
        let clip = try Clips.make(width: 320, height: 240, seconds: 1)
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
        // 1. `..` and absolute paths in `clip:`.
        try dir.write("p/inbox/up.yaml", "clip: ../secret.mp4\ntitle: x\n")
        try Clips.copy(clip, to: dir.url.appendingPathComponent("p/secret.mp4"))
        try dir.write("p/inbox/abs.yaml", "clip: /etc/passwd\ntitle: x\n")
        // 2. A symlink in the inbox that resolves outside it.
        try Clips.copy(clip, to: dir.url.appendingPathComponent("outside.mp4"))
        try FileManager.default.createSymbolicLink(atPath: inbox.appendingPathComponent("link.mp4").path, withDestinationPath: dir.url.appendingPathComponent("outside.mp4").path)
        try dir.write("p/inbox/link.yaml", "title: link\n")
        // 3. A sidecar over 1 MiB, and a billion-laughs sidecar.
        try Clips.copy(clip, to: inbox.appendingPathComponent("big.mp4"))
        try dir.write("p/inbox/big.yaml", "title: big\n" + String(repeating: "# pad pad pad pad pad pad pad pad\n", count: 40_000))
        try Clips.copy(clip, to: inbox.appendingPathComponent("lol.mp4"))
        var lol = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        for i in 1...9 { let prev = i == 1 ? "a" : "l\(i - 1)"; lol += "l\(i): &l\(i) [" + Array(repeating: "*\(prev)", count: 9).joined(separator: ",") + "]\n" }
        try dir.write("p/inbox/lol.yaml", lol)
        // 4. A zero-byte clip, a text file named .mp4, a checksum that does not match.
        try dir.write("p/inbox/empty.mp4", "")
        try dir.write("p/inbox/empty.yaml", "title: empty\n")
        try dir.write("p/inbox/text.mp4", "just some text\n")
        try dir.write("p/inbox/text.yaml", "title: text\n")
        try Clips.copy(clip, to: inbox.appendingPathComponent("sum.mp4"))
        try dir.write("p/inbox/sum.yaml", "title: sum\nsha256: \(String(repeating: "ab", count: 32))\n")
        // 5. A clip that cannot be read (a dangling link: as root, permissions cannot make a file unreadable).
        try FileManager.default.createSymbolicLink(atPath: inbox.appendingPathComponent("ghost.mp4").path, withDestinationPath: "gone-before-we-looked.mp4")
        try dir.write("p/inbox/ghost.yaml", "title: ghost\n")
        // 6. And one good drop, which must still go through.
        try Clips.copy(clip, to: inbox.appendingPathComponent("good.mp4"))
        try dir.write("p/inbox/good.yaml", "title: good\n")

        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let drops = try p.context.ledger.drops()
            func code(_ stem: String) -> String? { drops.first { $0.stem == stem }?.reasonCode }
            #expect(code("up") == "path_escape")
            #expect(code("abs") == "path_escape")
            #expect(code("link") == "path_escape")
            #expect(code("big") == "manifest_too_large")
            #expect(code("lol") == "manifest_too_complex")
            #expect(code("empty") == "empty_file")
            #expect(code("text") == "not_a_video")
            #expect(code("sum") == "checksum_mismatch")
            #expect(code("ghost") == "unreadable")
            #expect(drops.first { $0.stem == "good" }?.state == .archived)
            #expect(drops.filter { $0.state == .failed }.count == drops.count - 1)
            // Every original is kept: nothing is left in the inbox, nothing outside it was touched.
            #expect(files(under: inbox).isEmpty)
            #expect(FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("p/secret.mp4").path))
            #expect(FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("outside.mp4").path))
            let quarantined = files(under: config.paths.failed)
            for name in ["up.yaml", "abs.yaml", "link.mp4", "big.mp4", "big.yaml", "lol.yaml", "empty.mp4", "text.mp4", "sum.mp4"] {
                #expect(quarantined.contains { $0.hasSuffix("/" + name) }, "\(name) not in failed/")
            }
            #expect(await p.sandbox!.state.allVideos().count == 1)
        }
    }

    @Test func oddNamesWorkAndNeverReachAShell() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]")
        let clip = try Clips.make(width: 320, height: 240, seconds: 1)
        let stems = ["with space", "ünïcødé ✓ 日本", "-leading-dash", "quote's \"double\"", "semi;colon $(rm -rf x) `tick`", "new\nline"]
        for stem in stems {
            try Clips.copy(clip, to: config.paths.inbox.appendingPathComponent(stem + ".mp4"))
            try dir.write("inbox/\(stem).yaml", "title: \"{stem}\"\nrepublish: true\n")
        }
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let drops = try p.context.ledger.drops()
            #expect(drops.count == stems.count)
            for d in drops { #expect(d.state == .archived, "\(d.stem): \(d.reasonCode ?? "") \(d.reasonMessage ?? "")") }
            let titles = Set(await p.sandbox!.state.allVideos().map(\.title))
            // A title is one line: the newline in a name becomes a space.
            #expect(titles == Set(stems.map { $0.replacingOccurrences(of: "\n", with: " ") }))
            #expect(files(under: config.paths.archive).filter { $0.hasSuffix(".mp4") }.count == stems.count)
        }
    }

    @Test func clipperManifestWithTwentyClipsBecomesTwentyDrops() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(
            root: dir.url,
            extra: """
                defaults:
                  title: "Amazing moment from {video_id} #{clip_id}"
                  description: "Score: {score} #viral"
                """, targets: "targets: [youtube:main]", grace: "3s")
        var clips: [String] = []
        for i in 0..<20 {
            // Distinct content per clip (different lengths), so none is a duplicate of another.
            let c = try Clips.make(width: 320, height: 240, seconds: 1 + Double(i) * 0.1)
            let name = String(format: "RusBe_8arLQ_%04d_score_%d_9x16.mp4", i, 100 + i)
            try Clips.copy(c, to: config.paths.inbox.appendingPathComponent("processed/\(name)"))
            clips.append(
                """
                {"clip_id": \(i), "filename": "\(name)", "path": "processed/\(name)", "duration": \(1 + Double(i) * 0.1), "score": \(1.5 + Double(i) / 100), "aspect_ratio": "9:16"}
                """)
        }
        try dir.write("inbox/clips_metadata.json", "{\"video_id\": \"RusBe_8arLQ\", \"clips\": [\n" + clips.joined(separator: ",\n") + "\n]}")
        let p = try await TestPipelines.runOnce(config, timeout: .seconds(180))
        try await stopping(p) {
            let drops = try p.context.ledger.drops()
            #expect(drops.count == 20)
            #expect(drops.allSatisfy { $0.state == .archived })
            let titles = Set(await p.sandbox!.state.allVideos().map(\.title))
            #expect(titles == Set((0..<20).map { "Amazing moment from RusBe_8arLQ #\($0)" }))
            #expect(await p.sandbox!.state.allVideos().contains { $0.description == "Score: 1.5 #viral" })
            // Each drop's archive holds the shared manifest; the inbox is empty.
            #expect(files(under: config.paths.archive).filter { $0.hasSuffix("clips_metadata.json") }.count == 20)
            #expect(files(under: config.paths.inbox).isEmpty)
        }
    }

    @Test func ownClipListWithDefaultsAndAMissingEntry() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]", grace: "1s")
        try Clips.copy(try Clips.make(width: 320, height: 240, seconds: 1), to: config.paths.inbox.appendingPathComponent("a.mp4"))
        try Clips.copy(try Clips.make(width: 320, height: 240, seconds: 1.5), to: config.paths.inbox.appendingPathComponent("b.mp4"))
        try dir.write(
            "inbox/batch.manifest.yaml",
            """
            version: 1
            defaults: {title: "Batch {n}", privacy: unlisted, tags: [batch]}
            clips:
              - {clip: a.mp4, fields: {n: "1"}}
              - {clip: b.mp4, title: "Special B", fields: {n: "2"}}
              - {clip: never.mp4, fields: {n: "3"}}
            """)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let videos = await p.sandbox!.state.allVideos()
            #expect(Set(videos.map(\.title)) == ["Batch 1", "Special B"])
            #expect(videos.allSatisfy { $0.privacy == "unlisted" && $0.tags == ["batch"] })
            let all = try p.context.ledger.drops()
            let missing = try #require(all.first { $0.reasonCode == "missing_clip" }, "\(all.map { "\($0.stem) \($0.state) \($0.reasonCode ?? "") \($0.reasonMessage ?? "")" })")
            #expect(missing.reasonLocation?.hasPrefix("batch.manifest.yaml:6:") == true)
        }
    }
}
