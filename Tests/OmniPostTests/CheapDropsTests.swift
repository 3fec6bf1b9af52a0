import Foundation
import OmniPostCore
@testable import OmniPostIngest
import OmniPostLedger
import OmniPostMedia
@testable import OmniPostPipeline
import Testing

/// Issue 30's cheap drops: a flood of bad sidecars is answered one report each, without holding a good
/// drop beside it, and the shortcuts that make it cheap (an indexed partner lookup, a watcher reporting
/// folders in turn, the rendition's ffprobe started early) answer what the long ways answered.
@Suite(.serialized) struct CheapDropsTests {
    @Test(.timeLimit(.minutes(8)))
    func fiveHundredBadSidecarsAreEachAnsweredAndAGoodDropBesideThemIsPublished() async throws {
        let dir = try TempDir()
        let c = try TestPipelines.config(
            root: dir.url.appendingPathComponent("p"), targets: "targets: [youtube:main]", settle: "200ms", grace: "1s", missing: "defaults")
        let inbox = c.paths.inbox
        for sub in ["flood", "good"] { try FileManager.default.createDirectory(at: inbox.appendingPathComponent(sub), withIntermediateDirectories: true) }
        // Three kinds of bad sidecar, none with a clip: bytes that are no text, a clip that never comes,
        // YAML broken at line 2.
        func bytes(_ i: Int) -> Data {
            switch i % 3 {
            case 0: return Data((0..<200).map { UInt8(0x80 + ($0 * 13 + i) % 0x7f) })
            case 1: return Data("title: never coming \(i)\n".utf8)
            default: return Data("title: broken \(i)\ndescription: \"never closed\ntags: [a, b\n".utf8)
            }
        }
        for i in 0..<500 { try bytes(i).write(to: inbox.appendingPathComponent("flood/f\(i).yaml")) }
        let clip = try Clips.make(width: 320, height: 240, seconds: 1)
        try TestPipelines.drop(clip, as: "good/g", sidecar: "title: good\n", into: c)
        let p = try await TestPipelines.runOnce(c, timeout: .seconds(420))
        try await stopping(p) {
            let drops = try p.context.ledger.drops()
            let good = try #require(drops.first { $0.stem == "g" })
            #expect(good.state == .archived, "\(good.reasonCode ?? "") \(good.reasonMessage ?? "")")
            #expect(await p.sandbox!.state.allVideos().map(\.title) == ["good"])
            let bad = drops.filter { $0.stem != "g" }
            #expect(bad.count == 500)
            for d in bad {
                let path = try #require(d.sidecarPath)
                let i = try #require(Int(path.dropFirst("flood/f".count).dropLast(".yaml".count)))
                #expect(d.state == .failed, "\(path): \(d.state)")
                // Its reason, in words, where it lies.
                let code = try #require(d.reasonCode, "\(path) has no reason")
                #expect(!(d.reasonMessage ?? "").isEmpty)
                switch i % 3 {
                case 1: #expect(code == ReasonCode.missingClip.rawValue, "\(path): \(code)")
                case 2:
                    #expect(code == ReasonCode.manifestSyntax.rawValue, "\(path): \(code)")
                    // file:line:col
                    let location = d.reasonLocation ?? ""
                    #expect(location.hasPrefix(path + ":") && location.split(separator: ":").count == 3, "\(path): \(location)")
                default: #expect(d.reasonLocation?.hasPrefix(path) == true, "\(path): \(code) at \(d.reasonLocation ?? "nowhere")")
                }
                // Its own failure report, and its original kept beside it in failed/.
                let report = try readJSON(c.paths.outboxFailed.appendingPathComponent("\(d.id).failure.json"))
                #expect((report["reason"] as? [String: Any])?["code"] as? String == code, "\(d.id): \(report)")
                #expect(FileManager.default.fileExists(atPath: c.paths.failed.appendingPathComponent("\(d.id)/\(path)").path), "\(d.id)")
                // Every transition recorded: received, rejected, failed.
                let states = try p.context.ledger.events(forDrop: d.id).compactMap(\.toState)
                #expect(states.contains(DropState.received.rawValue) && states.contains(DropState.rejected.rawValue) && states.contains(DropState.failed.rawValue))
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: inbox.appendingPathComponent("flood").path).isEmpty)
        }
    }

    /// Settled files are reported round-robin across folders, each folder's in name order.
    @Test func theWatcherReportsFoldersInTurn() {
        func fact(_ rel: String) -> FileFact { FileFact(relPath: rel, size: 1, mtime: 1, inode: 1) }
        let ready = (0..<5).map { fact("flood/f\($0).yaml") } + [fact("good/g.yaml"), fact("good/g.mp4"), fact("top.mp4")]
        let order = InboxWatcher.fairOrder(ready.shuffled()).map(\.relPath)
        #expect(order.count == ready.count && Set(order) == Set(ready.map(\.relPath)))
        #expect(order.prefix(3) == ["top.mp4", "flood/f0.yaml", "good/g.mp4"], "\(order)")
        #expect(order.dropFirst(3).prefix(2) == ["flood/f1.yaml", "good/g.yaml"], "\(order)")
        #expect(order.suffix(3) == ["flood/f2.yaml", "flood/f3.yaml", "flood/f4.yaml"], "\(order)")
        #expect(InboxWatcher.fairOrder([]).isEmpty)
    }

    /// The pairing index and the ledger's stem lookup find exactly the files `DropNaming.pairs` pairs.
    @Test(arguments: LedgerBackendKind.available) func partnersAreFoundByIndexAsByScan(_ backend: LedgerBackendKind) async throws {
        try await withLedger(backend) { l in
            let paths = [
                "a.mp4", "a.yaml", "b.mov", "b.mp4.yaml", "dir/c.MP4", "dir/c.json", "dir/c.d.mp4", "dir/cc.mp4", "dir/c", "dir.mp4",
                "x/y.mkv", "x/y.en.srt", "x/y.mp4.mov", "x/yy.yaml", "z-1.mp4", "z.mp4"
            ]
            for (i, p) in paths.enumerated() {
                try l.recordFile(path: p, size: 1, mtime: 1, inode: Int64(100 + i), role: DropNaming.role(of: p))
            }
            let waiting = try l.waitingFiles()
            let index = WaitingPartners(waiting)
            let keySets: [[String]] = paths.map { DropNaming.clipKeys($0) } + paths.map { DropNaming.sidecarKeys($0) } + [["dir/c"], ["x/y"], ["z"], ["nothing"], ["x/y.mp4"]]
            for keys in keySets {
                for role in [FileRecord.Role.clip, .sidecar] {
                    let wanted = Set(keys)
                    let scanned = waiting.filter { $0.role == role && DropNaming.pairs($0.path, with: wanted) }.map(\.path).sorted()
                    #expect(index.any(pairingWith: keys, role: role) == !scanned.isEmpty, "\(keys) \(role)")
                    let looked = try l.waitingFiles(role: role, underStems: keys).filter { DropNaming.pairs($0.path, with: wanted) }.map(\.path).sorted()
                    #expect(looked == scanned, "\(keys) \(role)")
                }
            }
        }
    }

    /// The rendition's early ffprobe (fed the finished file through a socket) answers what ffprobe opening
    /// the file answers — size and bit rate included — for a remux, an audio-only conversion and a transcode.
    @Test func theEarlyProbeOfARenditionAnswersAsTheFileProbeDoes() async throws {
        let dir = try TempDir()
        let profiles = try ProfileCatalog.bundled()
        let src = try Clips.make(width: 540, height: 960, seconds: 3.2)  // moov at the end: a remux for Reels
        let wide = try Clips.make(width: 1280, height: 720, seconds: 3.2)  // a transcode for Shorts
        let planner = Planner()
        for (i, (clip, profile)) in [(src, profiles["instagram_reels"]!), (wide, profiles["youtube_shorts"]!)].enumerated() {
            let info = try await Prober().probe(path: clip.path, displayName: clip.lastPathComponent)
            let spec = try #require(planner.plan(info, for: profile).spec)
            let out = dir.file("out\(i).\(spec.fileExtension)")
            let early = try await Converter().convert(input: clip.path, output: out.path, spec: spec, durationS: info.durationS, verifyAgainst: profile, planner: planner)
            let late = try await Prober().probe(path: out.path, displayName: out.lastPathComponent)
            #expect(early == late, "\(spec.kind)")
            #expect(early.sizeBytes == (try FileManager.default.attributesOfItem(atPath: out.path)[.size] as! NSNumber).int64Value)
        }
        // A conversion that fails (its input is no video) says so, and leaves no file.
        let bad = dir.file("bad.mp4")
        try Data("not a video\n".utf8).write(to: dir.file("src.mp4"))
        let info = try await Prober().probe(path: src.path, displayName: "src.mp4")
        let spec = try #require(planner.plan(info, for: profiles["instagram_reels"]!).spec)
        await #expect(throws: OmniError.self) {
            _ = try await Converter().convert(
                input: dir.file("src.mp4").path, output: bad.path, spec: spec, durationS: 3.2, verifyAgainst: nil, planner: planner)
        }
        #expect(!FileManager.default.fileExists(atPath: bad.path))
    }
}
