import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostMedia
@testable import OmniPostPipeline
import Testing

/// Issue 9, "the daemon must survive any single file" and "wrong answers": each class of hostile input
/// gets its own code and sentence, never blocks or crashes a stage, and the good drop beside it goes through.
@Suite(.serialized) struct HostileInputTests {
    /// A FIFO, a symlink to a FIFO, a socket-like special file: refused with `not_regular_file`, at once.
    @Test(.timeLimit(.minutes(6))) func specialFilesNeverBlockAStage() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url.appendingPathComponent("p"), targets: "targets: [youtube:main]", grace: "1s")
        let inbox = config.paths.inbox
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
        let clip = try Clips.make(width: 320, height: 240, seconds: 1)
        // A clip that is a link to a FIFO inside the inbox (the reproduction), one outside in a subfolder,
        // a sidecar that is a link to a FIFO, and a link to a folder.
        #expect(mkfifo(inbox.appendingPathComponent(".pipe").path, 0o600) == 0)
        try FileManager.default.createSymbolicLink(atPath: inbox.appendingPathComponent("c.mp4").path, withDestinationPath: ".pipe")
        try dir.write("p/inbox/c.yaml", "title: fifo clip\n")
        try Clips.copy(clip, to: inbox.appendingPathComponent("s.mp4"))
        #expect(mkfifo(dir.file("p/sidecar-pipe").path, 0o600) == 0)
        try FileManager.default.createDirectory(at: inbox.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: inbox.appendingPathComponent("sub/.p2").path, withDestinationPath: "../.pipe")
        try FileManager.default.createSymbolicLink(atPath: inbox.appendingPathComponent("sub/s2.yaml").path, withDestinationPath: ".p2")
        try Clips.copy(clip, to: inbox.appendingPathComponent("sub/s2.mp4"))
        try FileManager.default.createDirectory(at: inbox.appendingPathComponent(".dir"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: inbox.appendingPathComponent("d.mp4").path, withDestinationPath: ".dir")
        try dir.write("p/inbox/d.yaml", "title: folder clip\n")
        try Clips.copy(clip, to: inbox.appendingPathComponent("good.mp4"))
        try dir.write("p/inbox/good.yaml", "title: good\n")

        let p = try await TestPipelines.runOnce(config, timeout: .seconds(240))
        try await stopping(p) {
            let drops = try p.context.ledger.drops()
            func drop(_ stem: String) -> DropRecord? { drops.first { $0.stem == stem } }
            #expect(drop("c")?.reasonCode == "not_regular_file")
            #expect(drop("c")?.reasonMessage?.contains("named pipe") == true)
            #expect(drop("s2")?.reasonCode == "not_regular_file")
            #expect(drop("d")?.reasonCode == "not_regular_file")
            #expect(drop("good")?.state == .archived)
        }
    }

    /// The reproduction: `ftyp` then a box whose 64-bit largesize is 2^64−1. And its neighbours.
    @Test func boxWalkerNeverTrapsOnHugeSizes() throws {
        let dir = try TempDir()
        func box(_ type: String, _ payload: [UInt8]) -> [UInt8] {
            let n = UInt32(8 + payload.count)
            return [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + Array(type.utf8) + payload
        }
        let ftyp = box("ftyp", Array("isom\0\0\0\0isomiso2".utf8))
        let cases: [(String, [UInt8])] = [
            ("largesize-max", ftyp + [0, 0, 0, 1] + Array("mdat".utf8) + [UInt8](repeating: 0xFF, count: 8) + [1, 2, 3]),
            ("largesize-near-max", ftyp + [0, 0, 0, 1] + Array("free".utf8) + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF0]),
            ("size-max32", ftyp + [0xFF, 0xFF, 0xFF, 0xFF] + Array("moov".utf8)),
            ("largesize-tiny", ftyp + [0, 0, 0, 1] + Array("mdat".utf8) + [0, 0, 0, 0, 0, 0, 0, 3]),
            ("size-below-header", ftyp + [0, 0, 0, 4] + Array("free".utf8)),
            ("truncated-header", ftyp + [0, 0, 0, 1, 0x6D])
        ]
        for (name, bytes) in cases {
            let f = dir.file(name + ".mp4")
            try Data(bytes).write(to: f)
            #expect(ContainerSniff.kind(path: f.path) == .isoBMFF)
            #expect(ContainerSniff.isTruncatedBMFF(path: f.path), "\(name)")
            _ = MoovCheck.moovFirst(path: f.path)
        }
        let whole = dir.file("whole.mp4")
        try Data(ftyp + box("moov", [1, 2, 3]) + box("mdat", [4, 5])).write(to: whole)
        #expect(!ContainerSniff.isTruncatedBMFF(path: whole.path))
        #expect(MoovCheck.moovFirst(path: whole.path) == true)
    }

    /// A seeded random-mutation fuzz over every parser of user bytes: the box walker and sniffer, the
    /// sidecar and clip-list parsers (YAML and JSON), the duration/size/time parsers. A trap kills the
    /// test process, so reaching the end is the assertion; the seed is printed for a failing run.
    @Test func mutatedInputsNeverTrapAParser() async throws {
        // CPU-bound for a few seconds: on a thread of its own, not one of the two the async tests share.
        let parsed = try await offPool { () throws -> Int in
            var rng = SeededRandom(seed: 0x9E37_79B9_7F4A_7C15)
            let clip = try Clips.make(width: 160, height: 120, seconds: 1)
            let header = [UInt8](try Data(contentsOf: clip).prefix(4096))
            let sidecarYAML = Array(
                """
                version: 1
                title: "fire \\ud83d\\udd25 {stem}"
                description: |
                  line one
                tags: [a, b, &t c, *t]
                privacy: public
                publish_at: 2026-12-01T18:00:00+01:00
                targets: [youtube:main]
                overrides: {tiktok: {privacy_level: SELF_ONLY}}
                cover: {at_ms: 500}
                priority: high
                """.utf8)
            let sidecarJSON = Array(#"{"title": "fire \ud83d\udd25 clip", "tags": ["a", "b\/c"], "publish_at": "2026-12-01T18:00 Europe/Berlin", "cover": {"at_ms": 10}}"#.utf8)
            let clipList = Array(#"{"video_id": "v1", "clips": [{"clip_id": 1, "filename": "a.mp4", "path": "sub", "duration": 12.5, "score": 0.9}]}"#.utf8)
            var parsed = 0
            for i in 0..<3000 {
                let walked = rng.mutate(header)
                let walker = BoxWalker(fileSize: UInt64(walked.count)) { off in
                    guard off < UInt64(walked.count) else { return nil }
                    return Array(walked[Int(off)..<min(walked.count, Int(off) + 16)])
                }
                _ = ContainerSniff.isTruncatedBMFF(walker)
                _ = MoovCheck.moovFirst(walker)
                _ = ContainerSniff.kind(head: Array(walked.prefix(12)))
                for source in [sidecarYAML, sidecarJSON] {
                    let text = String(decoding: rng.mutate(source), as: UTF8.self)
                    if (try? Manifest.parse(text: text, file: "m\(i).yaml")) != nil { parsed += 1 }
                }
                _ = try? ClipList.parse(text: String(decoding: rng.mutate(clipList), as: UTF8.self), file: "clips_metadata.json")
                let word = String(decoding: rng.mutate(Array("1.5h".utf8)), as: UTF8.self)
                _ = DurationText.parse(word)
                _ = ByteSizeText.parse(word)
                _ = Prober.rate(word)
            }
            return parsed
        }
        #expect(parsed > 0)  // the mutations are small enough that some still parse
        // The numbers that trapped before: not finite, or too big for Int.
        #expect(Prober.rate("1e308/1e-308") == nil)
        #expect(Planner.fmt(.infinity) == "inf")
        #expect(Planner.even(.nan) == 2)
    }

    /// What a standard JSON encoder writes must parse: surrogate pairs, lone surrogates, `\/`.
    @Test func jsonThatStandardEncodersWriteParses() throws {
        let m = try Manifest.parse(text: #"{"title": "fire \ud83d\udd25 clip", "description": "a\/b \\ud83d stays", "tags": ["\uD83D\uDE00"]}"#, file: "c.json")
        #expect(m.title?.value == "fire 🔥 clip")
        #expect(m.description?.value == "a/b \\ud83d stays")
        #expect(m.tags == ["😀"])
        let lone = try Manifest.parse(text: #"{"title": "half \ud83d here"}"#, file: "c.json")
        #expect(lone.title?.value == "half \u{FFFD} here")
        // Python's json.dumps of an emoji, byte for byte, through the whole clip-list path too.
        let python = #"{"video_id": "x", "clips": [{"clip_id": 1, "filename": "\ud83d\udd25.mp4", "path": "clips"}]}"#
        let list = try ClipList.parse(text: python, file: "clips_metadata.json")
        #expect(list.entries[0].candidates.first == "🔥.mp4")
    }

    /// `targets: []`, a target twice, fields bounded, expansion measured as bytes, a long plain list fine.
    @Test func sidecarShapesGetTheirOwnAnswers() async throws {
        func code(_ text: String) -> String? {
            do { _ = try Manifest.parse(text: text, file: "s.yaml"); return nil } catch let e as OmniError { return e.code.rawValue } catch { return "other" }
        }
        #expect(code("targets: []\n") == "no_targets")
        #expect(code("targets: [youtube:main, youtube:main]\n") == "duplicate_target")
        #expect(code("tags: [\(Array(repeating: "t", count: 501).joined(separator: ", "))]\n") == "manifest_too_large")
        // ~30 KB that expands through aliases into a huge tag list.
        var bomb = "a: &a [" + Array(repeating: "\"\(String(repeating: "x", count: 60))\"", count: 400).joined(separator: ",") + "]\n"
        bomb += "tags: [" + Array(repeating: "*a", count: 200).joined(separator: ",") + "]\n"
        let e = #expect(throws: OmniError.self) { _ = try Manifest.parse(text: bomb, file: "bomb.yaml") }
        #expect(e?.code.rawValue == "manifest_too_complex" || e?.code.rawValue == "unknown_key")
        let bomb2 = "title: x\nfields: {a: &a \(String(repeating: "y", count: 1000))}\ntags: [" + Array(repeating: "*a", count: 6000).joined(separator: ",") + "]\n"
        let e2 = #expect(throws: OmniError.self) { _ = try Manifest.parse(text: bomb2, file: "bomb2.yaml") }
        #expect(e2?.code.rawValue == "manifest_too_complex")
        #expect(e2?.message.contains("expands to more than") == true)
        // 10,000 plain entries, no aliases: a clip list that size parses in linear time (where a pipeline
        // allows that many entries; by default one past 500 is `manifest_too_large`).
        let entries = (0..<10_000).map { "  - {clip: c\($0).mp4, title: clip \($0)}" }.joined(separator: "\n")
        let count = try await offPool { try ClipList.parse(text: "clips:\n" + entries + "\n", file: "big.manifest.yaml", maxEntries: 10_000).entries.count }
        #expect(count == 10_000)
        // A report quotes a short excerpt, never a whole value.
        let long = #expect(throws: OmniError.self) { _ = try Manifest.parse(text: "privacy: \(String(repeating: "z", count: 5000))\n", file: "s.yaml") }
        #expect((long?.message.count ?? 0) < 300)
    }

    /// Through the pipeline: traversal however written (sidecar in a subfolder, clip lists' `filename`
    /// and `path`), a sidecar linked to a file outside, two sidecars, bad times, control characters,
    /// a PNG named .mp4 — each with its own code, at once (not after the grace), the good drop published.
    @Test(.timeLimit(.minutes(6))) func wrongAnswersAreRightNow() async throws {
        let dir = try TempDir()
        // A long grace: anything answered within the run was answered at once, not after waiting.
        let config = try TestPipelines.config(root: dir.url.appendingPathComponent("p"), targets: "targets: [youtube:main]", grace: "60s")
        let inbox = config.paths.inbox
        try FileManager.default.createDirectory(at: inbox.appendingPathComponent("sub/deeper"), withIntermediateDirectories: true)
        let clip = try Clips.make(width: 320, height: 240, seconds: 1.5)
        try dir.write("secret.txt", "TOP-SECRET-HOSTNAME\n")
        try FileManager.default.createSymbolicLink(atPath: inbox.appendingPathComponent("leak.yaml").path, withDestinationPath: dir.file("secret.txt").path)
        try Clips.copy(clip, to: inbox.appendingPathComponent("leak.mp4"))
        try dir.write("p/inbox/sub/trav.yaml", "clip: ../../../../etc/passwd\ntitle: x\n")
        try dir.write("p/inbox/sub/deeper/trav2.yaml", "clip: ok/../../../../x.mp4\ntitle: x\n")
        try dir.write(
            "p/inbox/sub/clips_metadata.json",
            #"{"video_id": "v", "clips": [{"clip_id": 1, "filename": "../../../../etc/passwd"}, {"clip_id": 2, "filename": "fine.mp4", "path": "../../.."}]}"#)
        try dir.write("p/inbox/sub/deeper/l.manifest.yaml", "clips:\n  - {clip: x/../../../../../etc/passwd, title: t}\n")
        for n in ["both", "ctl", "esc", "far"] { try Clips.copy(clip, to: inbox.appendingPathComponent("\(n).mp4")) }
        try dir.write("p/inbox/both.yaml", "title: from yaml\nprivacy: private\n")
        try dir.write("p/inbox/both.json", #"{"title": "from json", "privacy": "public"}"#)
        try dir.write("p/inbox/ctl.yaml", "title: \"bell \\a here\"\n")
        try dir.write("p/inbox/esc.yaml", "title: ok\ndescription: \"red \\e[31m text\"\n")
        try dir.write("p/inbox/far.yaml", "title: far\npublish_at: 9999-12-31T23:59:59Z\n")
        let png = dir.file("pic.png")
        try Clips.run("ffmpeg", ["-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=64x64", "-frames:v", "1", png.path])
        try FileManager.default.copyItem(at: png, to: inbox.appendingPathComponent("png.mp4"))
        try dir.write("p/inbox/png.yaml", "title: picture\n")
        // Its own content: it must not be a duplicate of whichever drop above published first.
        try Clips.copy(try Clips.make(width: 320, height: 240, seconds: 1.7), to: inbox.appendingPathComponent("good.mp4"))
        try dir.write("p/inbox/good.yaml", "title: good\n")

        let started = ContinuousClock.now
        let p = try await TestPipelines.runOnce(config, timeout: .seconds(240))
        try await stopping(p) {
            let drops = try p.context.ledger.drops()
            let codes = { (pred: (DropRecord) -> Bool) -> [String] in drops.filter(pred).compactMap(\.reasonCode).sorted() }
            #expect(codes { $0.sidecarPath == "leak.yaml" } == ["path_escape"])
            #expect(codes { $0.sidecarPath == "sub/trav.yaml" } == ["path_escape"])
            #expect(codes { $0.sidecarPath == "sub/deeper/trav2.yaml" } == ["path_escape"])
            #expect(codes { $0.sidecarPath == "sub/clips_metadata.json" } == ["path_escape", "path_escape"])
            #expect(codes { $0.sidecarPath == "sub/deeper/l.manifest.yaml" } == ["path_escape"])
            // A pairing withdrawn because the rival turned up (`partner_arrived`) is not the answer; the drop after it is.
            let both = drops.first { $0.stem == "both" && $0.state != .withdrawn }
            #expect(both?.reasonCode == "ambiguous_sidecar")
            #expect(both?.reasonMessage?.contains("both.json") == true && both?.reasonMessage?.contains("both.yaml") == true)
            #expect(codes { $0.stem == "ctl" } == ["text_invalid"])
            #expect(drops.first { $0.stem == "ctl" }?.reasonMessage?.contains("U+0007") == true)
            #expect(codes { $0.stem == "esc" } == ["text_invalid"])
            #expect(codes { $0.stem == "far" } == ["invalid_value"])
            #expect(codes { $0.stem == "png" } == ["not_a_video"])
            #expect(drops.first { $0.stem == "good" }?.state == .archived)
            #expect(ContinuousClock.now - started < .seconds(50))
            // Nothing of the outside file reached a report, failed/ or the ledger.
            let outbox = files(under: config.paths.outbox).map { (try? String(contentsOf: config.paths.outbox.appendingPathComponent($0), encoding: .utf8)) ?? "" }
            #expect(!outbox.contains { $0.contains("TOP-SECRET") })
            // (The link itself is kept in failed/ as the original it is; what matters is that no copy of its target is.)
            let failedTexts = files(under: config.paths.failed)
                .filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: config.paths.failed.appendingPathComponent($0).path)) == nil }
                .compactMap { try? String(contentsOf: config.paths.failed.appendingPathComponent($0), encoding: .utf8) }
            #expect(!failedTexts.contains { $0.contains("TOP-SECRET") })
            let ledgerText = try p.context.ledger.drops().map { ($0.reasonMessage ?? "") + ($0.manifestJson ?? "") }
            #expect(!ledgerText.contains { $0.contains("TOP-SECRET") })
            // Both sidecars and the clip went to failed/ together; the originals are all kept.
            #expect(files(under: config.paths.inbox).filter { !$0.hasPrefix(".") }.isEmpty)
        }
    }
}

/// xorshift64*: the same mutations on every run, so a failure repeats.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state ^= state >> 12; state ^= state << 25; state ^= state >> 27
        return state &* 2685821657736338717
    }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }

    /// Flips, overwrites with extreme bytes, deletes, duplicates or truncates a few spots.
    mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var b = input
        for _ in 0..<(1 + int(6)) {
            guard !b.isEmpty else { return b }
            let at = int(b.count)
            switch int(6) {
            case 0: b[at] ^= UInt8(truncatingIfNeeded: 1 << int(8))
            case 1: b[at] = [0x00, 0xFF, 0x7F, 0x80, 0x01][int(5)]
            case 2: b.remove(at: at)
            case 3: b.insert(contentsOf: b[at..<min(b.count, at + 1 + int(16))], at: at)
            case 4: b = Array(b.prefix(at))
            default:
                // Four or eight 0xFF bytes: the largest sizes a box header can claim.
                b.replaceSubrange(at..<min(b.count, at + 8), with: [UInt8](repeating: 0xFF, count: int(2) == 0 ? 4 : 8))
            }
        }
        return b
    }
}

extension HostileInputTests {
    /// A clip no target can take: each target's reason names that target and its own profile.
    @Test func eachTargetsRefusalNamesItsOwnProfile() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main, tiktok:main]")
        try TestPipelines.drop(try Clips.make(width: 2, height: 2, seconds: 4), as: "tiny", sidecar: "title: tiny\n", into: config)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let drop = try #require(try p.context.ledger.drops().first)
            let message = drop.reasonMessage ?? ""
            #expect(drop.state == .failed && drop.reasonCode == "resolution_too_low")
            let parts = message.components(separatedBy: "; tiktok:main: ")
            #expect(parts.count == 2, "\(message)")
            #expect(parts.first?.hasPrefix("youtube:main: 2×2 is below youtube's minimum of 128×128") == true, "\(message)")
            #expect(parts.last?.contains("tiktok's minimum of 360×360") == true && parts.last?.contains("youtube") == false, "\(message)")
        }
    }

    /// A second sidecar that arrives after its clip was taken with the first: told so, not "did not arrive".
    @Test func aLateSecondSidecarIsToldWhoTookItsClip() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]")
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 1), as: "c", sidecar: "title: first\n", into: config)
        let first = try await TestPipelines.runOnce(config)
        let taken = try #require(try first.context.ledger.drops().first)
        #expect(taken.state == .archived)
        await first.close()
        try dir.write("inbox/c.json", #"{"title": "second"}"#)
        let second = try await TestPipelines.runOnce(config)
        try await stopping(second) {
            let late = try #require(try second.context.ledger.drops().first { $0.sidecarPath == "c.json" })
            #expect(late.reasonCode == "ambiguous_sidecar")
            #expect(late.reasonMessage?.contains("c.mp4 was already taken by drop \(taken.id) with c.yaml") == true, "\(late.reasonMessage ?? "")")
        }
    }
}

/// The rival-sidecar race, driven stage by stage: `c.json` recorded after `c.mp4` and `c.yaml` were
/// paired but before the drop was validated. Validation withdraws the pairing (`partner_arrived`),
/// and the files pair again into one drop that fails `ambiguous_sidecar` naming both — neither is posted.
@Suite struct RivalSidecarTests {
    @Test func aRivalRecordedAfterPairingFailsTheDropWhole() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]", grace: "60s")
        let p = try await Pipeline.open(config: config, logger: TestPipelines.logger, embedding: TestPipelines.embedding)
        try await stopping(p) {
            let ctx = p.context
            try Clips.copy(try Clips.make(width: 320, height: 240, seconds: 1), to: config.paths.inbox.appendingPathComponent("c.mp4"))
            try dir.write("inbox/c.yaml", "title: from yaml\n")
            try dir.write("inbox/c.json", #"{"title": "from json"}"#)
            func record(_ rel: String, _ role: FileRecord.Role) throws {
                let a = try FileManager.default.attributesOfItem(atPath: config.paths.inbox.appendingPathComponent(rel).path)
                _ = try ctx.ledger.recordCompleteFile(
                    path: rel, size: (a[.size] as! NSNumber).int64Value,
                    mtime: (a[.modificationDate] as! Date).timeIntervalSince1970,
                    inode: (a[.systemFileNumber] as! NSNumber).int64Value, role: role)
            }
            try record("c.mp4", .clip)
            try record("c.yaml", .sidecar)
            #expect(try await AssembleStage(ctx: ctx).step())
            let first = try #require(try ctx.ledger.drops().first)
            #expect(first.sidecarPath == "c.yaml")
            // The rival is recorded now, after the pairing and before validation.
            try record("c.json", .sidecar)
            #expect(try await ValidateStage(ctx: ctx).step())
            let withdrawn = try #require(try ctx.ledger.drops().first { $0.id == first.id })
            #expect(withdrawn.state == .withdrawn && withdrawn.reasonCode == "partner_arrived", "\(withdrawn.state) \(withdrawn.reasonCode ?? "")")
            // The three pair again at once (no grace), and the drop fails naming both sidecars.
            #expect(try await AssembleStage(ctx: ctx).step())
            #expect(try await ValidateStage(ctx: ctx).step())
            let again = try #require(try ctx.ledger.drops().first { $0.id != first.id })
            #expect(again.state == .rejected && again.reasonCode == "ambiguous_sidecar", "\(again.state) \(again.reasonCode ?? "")")
            #expect(again.reasonMessage?.contains("c.yaml") == true && again.reasonMessage?.contains("c.json") == true)
            #expect(try ctx.ledger.allDeliveries().filter { $0.state == .published }.isEmpty)
        }
    }
}

/// Two sidecars that name one clip (`clip: v.mp4` in both) are as ambiguous as `c.yaml` beside `c.json`:
/// neither is published, and the drop fails `ambiguous_sidecar` naming both (the first to be paired used
/// to be published, the second failed as "already taken").
@Suite struct TwoSidecarsNamingOneClipTests {
    @Test(.timeLimit(.minutes(3))) func neitherIsPublished() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]", grace: "1s")
        let inbox = config.paths.inbox
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
        try dir.write("inbox/one.yaml", "clip: v.mp4\ntitle: one\n")
        try dir.write("inbox/two.yaml", "clip: v.mp4\ntitle: two\ntargets: [youtube:main]\n")
        try Clips.copy(try Clips.make(width: 320, height: 240, seconds: 1), to: inbox.appendingPathComponent("v.mp4"))
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let drops = try p.context.ledger.drops().filter { $0.state != .withdrawn }
            #expect(drops.count == 1, "\(drops.map { "\($0.stem) \($0.state) \($0.reasonCode ?? "")" })")
            let d = try #require(drops.first)
            #expect(d.reasonCode == "ambiguous_sidecar", "\(d.reasonCode ?? "") \(d.reasonMessage ?? "")")
            #expect(d.reasonMessage?.contains("one.yaml") == true && d.reasonMessage?.contains("two.yaml") == true, "\(d.reasonMessage ?? "")")
            #expect(await p.sandbox!.state.allVideos().isEmpty)
            for f in ["v.mp4", "one.yaml", "two.yaml"] {
                #expect(FileManager.default.fileExists(atPath: config.paths.failed.appendingPathComponent("\(d.id)/\(f)").path), "\(f) kept in failed/")
            }
        }
    }
}

/// A partner that is there but is no regular file (a FIFO named `x.mp4`, a folder named `y.yaml`): the
/// watcher never takes one, so its drop was answered `missing_clip` / `missing_sidecar`; it is named for
/// what it is, and left where it is.
@Suite struct PartnerNotARegularFileTests {
    @Test(.timeLimit(.minutes(3))) func aFIFOClipOrAFolderSidecarIsNamedForWhatItIs() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]", grace: "1s")
        let inbox = config.paths.inbox
        try FileManager.default.createDirectory(at: inbox.appendingPathComponent("y.yaml"), withIntermediateDirectories: true)
        try dir.write("inbox/x.yaml", "title: x\n")
        #expect(mkfifo(inbox.appendingPathComponent("x.mp4").path, 0o600) == 0)
        try Clips.copy(try Clips.make(width: 320, height: 240, seconds: 1), to: inbox.appendingPathComponent("y.mp4"))
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let drops = try p.context.ledger.drops()
            let x = drops.first { $0.stem == "x" }, y = drops.first { $0.stem == "y" }
            #expect(x?.reasonCode == "not_regular_file" && x?.reasonMessage?.contains("x.mp4 is a named pipe (FIFO)") == true, "\(x?.reasonMessage ?? "no drop")")
            #expect(y?.reasonCode == "not_regular_file" && y?.reasonMessage?.contains("y.yaml is a folder") == true, "\(y?.reasonMessage ?? "no drop")")
            #expect(await p.sandbox!.state.allVideos().isEmpty)
        }
    }
}
