import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPipeline
import Testing

/// Issue 21 (item 2): one inbox writer cannot starve the others. A clip list past its cap is one answer
/// (`manifest_too_large` at the first entry too many); a list whose clips never arrive, a folder of junk
/// `.mp4` files and a sparse 100 GB file are answered without holding a good drop in another folder —
/// work goes round-robin across writers — and the sparse file is answered without being hashed.
@Suite(.serialized) struct IngestFairnessTests {
    @Test func aClipListPastItsCapFailsAtTheFirstEntryTooMany() throws {
        let entries = (0..<6).map { "  - {clip: c\($0).mp4}" }.joined(separator: "\n")
        let e = #expect(throws: OmniError.self) { _ = try ClipList.parse(text: "clips:\n" + entries + "\n", file: "l.manifest.yaml", maxEntries: 5) }
        #expect(e?.code == .manifestTooLarge)
        #expect(e?.location?.line == 7, "\(e?.location?.description ?? "")")  // `clips:` is line 1
        #expect(e?.message.contains("at most 5") == true)
        #expect(try ClipList.parse(text: "clips:\n" + entries + "\n", file: "l.manifest.yaml", maxEntries: 6).entries.count == 6)
        // The clipper's format is capped the same way.
        let clipper = "{\"clips\": [" + (0..<6).map { "{\"filename\": \"c\($0).mp4\"}" }.joined(separator: ",\n") + "]}"
        let e2 = #expect(throws: OmniError.self) { _ = try ClipList.parse(text: clipper, file: "clips_metadata.json", maxEntries: 5) }
        #expect(e2?.code == .manifestTooLarge && e2?.location?.line == 6, "\(e2?.location?.description ?? "")")
        // The pipeline's setting, checked at its line.
        let root = FileManager.default.temporaryDirectory
        let c = try PipelineConfig.parse(
            text: "version: 1\nname: t\nsandbox: embedded\nsidecar: {max_list_entries: 20}\ntargets: [youtube:main]\n", file: "p.yaml", baseDirectory: root)
        #expect(c.sidecar.maxListEntries == 20)
        #expect(SidecarPolicy().maxListEntries == ClipList.defaultMaxEntries)
        let bad = #expect(throws: OmniError.self) {
            _ = try PipelineConfig.parse(
                text: "version: 1\nname: t\nsandbox: embedded\nsidecar: {max_list_entries: 0}\ntargets: [youtube:main]\n", file: "p.yaml", baseDirectory: root)
        }
        #expect(bad?.location?.line == 4 && bad?.message.contains("at least 1") == true, "\(bad?.description ?? "")")
    }

    @Test(.timeLimit(.minutes(8)))
    func aFloodFromOneWriterDoesNotHoldAnotherFoldersDrop() async throws {
        let dir = try TempDir()
        // `missing: defaults`: every junk clip is probed (the expensive answer), not refused for its sidecar.
        var c = try TestPipelines.config(
            root: dir.url.appendingPathComponent("p"), targets: "targets: [youtube:main]",
            settle: "200ms", grace: "1s", missing: "defaults")
        c.sidecar.maxListEntries = 60
        let inbox = c.paths.inbox
        for sub in ["flood", "junk", "huge", "good"] {
            try FileManager.default.createDirectory(at: inbox.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        // A list whose 60 clips never arrive, and one of 61 entries: one answer, at its 61st entry.
        let entries = (0..<61).map { "  - {clip: never-\($0).mp4, title: never \($0)}" }
        try Data(("clips:\n" + entries.prefix(60).joined(separator: "\n") + "\n").utf8).write(to: inbox.appendingPathComponent("flood/waits.manifest.yaml"))
        try Data(("clips:\n" + entries.joined(separator: "\n") + "\n").utf8).write(to: inbox.appendingPathComponent("flood/over.manifest.yaml"))
        // 150 junk files named .mp4: binary, no known container — each one is ffprobed to say so (text or
        // zeros would be answered without a probe, and too fast to show who waits for whom).
        for i in 0..<150 {
            try Data((0..<4096).map { UInt8(1 + ($0 * 7 + i) % 8) }).write(to: inbox.appendingPathComponent("junk/j\(i).mp4"))
        }
        // A sparse 100 GB file: no disk used, and never read in full.
        try Clips.run("truncate", ["-s", "100G", inbox.appendingPathComponent("huge/huge.mp4").path])
        try Data("title: huge\n".utf8).write(to: inbox.appendingPathComponent("huge/huge.yaml"))
        let clip = try Clips.make(width: 320, height: 240, seconds: 1)
        let config = c
        let p = try await TestPipelines.runOnce(c, timeout: .seconds(420)) { p in
            let ledger = p.context.ledger
            // The good drop arrives once the flood is queued in front of it — or, on a machine where the
            // validate lanes keep pace with the drops being made and no such queue forms, once most of the
            // flood is made: it must arrive while the run still has work, or `--once` ends before it comes.
            Task.detached {
                for _ in 0..<6000 {
                    if ((try? ledger.drops(in: [.received]).count) ?? 0) >= 150 || ((try? ledger.drops().count) ?? 0) >= 200 { break }
                    try? await Task.sleep(for: .milliseconds(10))
                }
                try? TestPipelines.drop(clip, as: "good/g", sidecar: "title: good\n", into: config)
            }
        }
        try await stopping(p) {
            let ledger = p.context.ledger
            let drops = try ledger.drops()
            let good = try #require(drops.first { $0.stem == "g" })
            #expect(good.state == .archived, "\(good.reasonCode ?? "") \(good.reasonMessage ?? "")")
            #expect(await p.sandbox!.state.allVideos().map(\.title) == ["good"])

            // Each writer's answers, each with its own code.
            let over = drops.filter { $0.sidecarPath == "flood/over.manifest.yaml" }
            #expect(over.count == 1 && over.first?.reasonCode == "manifest_too_large", "\(over.map { "\($0.reasonCode ?? "")" })")
            #expect(over.first?.reasonLocation?.hasPrefix("flood/over.manifest.yaml:62") == true, "\(over.first?.reasonLocation ?? "")")
            let waits = drops.filter { $0.sidecarPath == "flood/waits.manifest.yaml" }
            #expect(waits.count == 60 && waits.allSatisfy { $0.reasonCode == "missing_clip" })
            let junk = drops.filter { $0.clipPath?.hasPrefix("junk/") == true }
            #expect(junk.count == 150 && junk.allSatisfy { $0.reasonCode == "not_a_video" }, "\(Set(junk.compactMap(\.reasonCode)))")
            let huge = try #require(drops.first { $0.stem == "huge" })
            #expect(huge.reasonCode == "not_a_video" && huge.clipSha256 == nil)
            // Filed away as it was: still 100 GB, still sparse (moved, never copied).
            let filed = c.paths.failed.appendingPathComponent(huge.id).appendingPathComponent("huge/huge.mp4")
            var st = stat()
            #expect(stat(filed.path, &st) == 0 && st.st_size == 100 << 30 && st.st_blocks < 1024)

            // Fairness, by order: of the drops queued in front of the good one when it arrived, only a few were
            // answered before it was validated (a turn per writer and worker, and what the other worker answered
            // while it was being validated) — first come, first served would have answered all of them first.
            let events = try ledger.events(drop: nil)
            let received = try #require(events.firstIndex { $0.dropId == good.id && $0.toState == DropState.received.rawValue })
            let validated = try #require(events.firstIndex { $0.dropId == good.id && $0.toState == DropState.validated.rawValue })
            let answered = { (e: EventRecord) in e.stage == "validate" && e.toState == DropState.rejected.rawValue }
            let queued = Set(events[..<received].filter { $0.toState == DropState.received.rawValue }.compactMap(\.dropId))
                .subtracting(events[..<received].filter(answered).compactMap(\.dropId))
            let answeredBetween = events[received..<validated].filter(answered).count
            // Judged where a queue formed in front of it (a few drops queued are no test of fairness: the
            // good drop then waited behind nothing much either way).
            if queued.count >= 50 {
                #expect(
                    answeredBetween * 4 < queued.count,
                    "\(answeredBetween) of the \(queued.count) drops queued in front of the good one were answered before it")
            } else {
                print("ingest fairness: only \(queued.count) drops were queued in front of the good one (validation kept pace); order not judged")
            }
        }
    }
}
