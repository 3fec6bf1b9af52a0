import Foundation
import OmniPostCore
import OmniPostMedia
import Testing

/// Issue 21, item 10: interlaced sources, and profile limits as the platforms document them.
// One at a time: each test runs ffmpeg flat out on a shared two-core machine.
@Suite(.serialized) struct InterlaceAndLimitsTests {
    let profiles = try! ProfileCatalog.bundled()

    func probe(_ u: URL) async throws -> MediaInfo { try await Prober().probe(path: u.path, displayName: u.lastPathComponent) }

    /// 50 pictures a second woven into 25 frames, top field first: each frame's two fields are two
    /// instants, as a 1080i camera or broadcast records them.
    static func interlaced(_ name: String, codec: [String], audio: [String], format: [String] = []) throws -> URL {
        let out = Clips.cache.appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: out.path) { return out }
        try Clips.run(
            "ffmpeg",
            [
                "-nostdin", "-loglevel", "error", "-y",
                "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=50:duration=3.2",
                "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=3.2",
                "-vf", "tinterlace=mode=interleave_top,setfield=tff", "-flags", "+ilme+ildct"
            ]
                + codec + audio + format + [out.path + ".tmp"])
        try FileManager.default.moveItem(atPath: out.path + ".tmp", toPath: out.path)
        return out
    }

    /// ffmpeg's `idet` on a file: frames it finds interlaced (either field order) and progressive.
    func combing(_ u: URL) async throws -> (interlaced: Int, progressive: Int) {
        let err = try await MediaChecks.output(["ffmpeg", "-nostdin", "-hide_banner", "-i", u.path, "-vf", "idet", "-an", "-f", "null", "-"], stderr: true)
        guard let r = err.range(of: "Multi frame detection:") else { return (0, 0) }
        let line = err[r.upperBound...].prefix { $0 != "\n" }
        func count(_ key: String) -> Int {
            guard let k = line.range(of: key + ":") else { return 0 }
            return Int(line[k.upperBound...].drop { $0 == " " }.prefix { $0.isNumber }) ?? 0
        }
        return (count("TFF") + count("BFF"), count("Progressive"))
    }

    func fieldOrder(_ u: URL) async throws -> String {
        try await MediaChecks.output(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=field_order", "-of", "csv=p=0", u.path])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// H.264 1080i-style in MP4: YouTube takes it as it is (it deinterlaces itself); Instagram, which takes
    /// progressive scan only, gets it deinterlaced — though nothing else about it would be converted.
    @Test func interlacedIsDeinterlacedWhereTheTargetTakesProgressiveOnly() async throws {
        let dir = try TempDir()
        let src = try Self.interlaced(
            "il-h264.mp4", codec: ["-c:v", "libx264", "-preset", "ultrafast", "-x264opts", "tff=1", "-field_order", "tt", "-pix_fmt", "yuv420p"],
            audio: ["-c:a", "aac"], format: ["-movflags", "+faststart", "-f", "mp4"])
        let info = try await probe(src)
        #expect(info.video?.interlaced == true && info.video?.fieldOrder == "tt")
        #expect(try await combing(src).interlaced > 40, "the source really is combed")
        #expect(Planner().plan(info, for: profiles["youtube"]!).kind == .pass)
        #expect(Planner().plan(info, for: profiles["tiktok"]!).kind == .pass)

        let instagram = profiles["instagram_reels"]!
        let d = Planner().plan(info, for: instagram)
        #expect(d.kind == .transcode && d.reasons == ["interlaced (field order tt): instagram_reels takes progressive scan only, so it is deinterlaced"], "\(d.reasons)")
        let spec = try #require(d.spec)
        #expect(spec.deinterlace == true && spec.width == 640 && spec.height == 360)
        let filters = try #require(FFmpegArguments.build(input: "i", output: "o", spec: spec).drop { $0 != "-vf" }.dropFirst().first)
        #expect(filters.hasPrefix("bwdif="), "deinterlaced before anything else: \(filters)")
        let out = dir.file("ig.mp4")
        let r = try await Converter().convert(input: src.path, output: out.path, spec: spec, durationS: info.durationS, verifyAgainst: instagram, planner: Planner())
        #expect(r.video?.interlaced == false)
        #expect(try await fieldOrder(out) == "progressive")
        let after = try await combing(out)
        #expect(after.progressive > 4 * after.interlaced, "no combing left: \(after)")

        // The same transcode without deinterlacing keeps the combs: the measure tells the two apart.
        var blended = spec
        blended.deinterlace = nil
        let raw = dir.file("raw.mp4")
        _ = try await Converter().convert(input: src.path, output: raw.path, spec: blended, durationS: info.durationS, verifyAgainst: instagram, planner: Planner())
        let kept = try await combing(raw)
        #expect(kept.interlaced > kept.progressive, "\(kept)")
    }

    /// MPEG-2 1080i-style in a transport stream (a broadcast capture): TikTok needs a transcode anyway
    /// (codec, container), and that transcode deinterlaces before it scales or encodes.
    @Test func aTranscodeOfAnInterlacedClipDeinterlaces() async throws {
        let dir = try TempDir()
        let src = try Self.interlaced("il-mpeg2.ts", codec: ["-c:v", "mpeg2video", "-q:v", "3", "-top", "1"], audio: ["-c:a", "mp2"], format: ["-f", "mpegts"])
        let info = try await probe(src)
        #expect(info.video?.codec == "mpeg2video" && info.video?.interlaced == true)
        #expect(Planner().plan(info, for: profiles["youtube"]!).kind == .pass)
        let tiktok = profiles["tiktok"]!
        let d = Planner().plan(info, for: tiktok)
        let spec = try #require(d.spec)
        #expect(d.kind == .transcode && spec.deinterlace == true)
        let out = dir.file("tt.mp4")
        let r = try await Converter().convert(input: src.path, output: out.path, spec: spec, durationS: info.durationS, verifyAgainst: tiktok, planner: Planner())
        #expect(r.video?.codec == "h264" && r.video?.interlaced == false)
        #expect(try await fieldOrder(out) == "progressive")
        let after = try await combing(out)
        #expect(after.progressive > 4 * after.interlaced, "\(after)")
    }

    /// Limits the platforms do not document are not reasons to convert: TikTok lists no aspect ratio (a
    /// 16:9 clip goes as it is, never padded to 9:16), YouTube no frame-rate cap (120 fps goes as it is).
    /// Where a platform does document one (X: 60 fps), it still holds.
    @Test func onlyDocumentedLimitsConvert() async throws {
        let landscape = try await probe(Clips.make(width: 1280, height: 720, seconds: 3.2))
        #expect(Planner().plan(landscape, for: profiles["tiktok"]!).kind == .pass)
        let fast = try await probe(Clips.make(width: 640, height: 360, seconds: 3.2, fps: 120))
        #expect(abs((fast.video?.fps ?? 0) - 120) < 0.5)
        #expect(Planner().plan(fast, for: profiles["youtube"]!).kind == .pass)
        let x = Planner().plan(fast, for: profiles["x"]!)
        #expect(x.kind == .transcode && x.spec?.fps == 60)
        #expect(Planner().plan(fast, for: profiles["tiktok"]!).kind == .transcode)
    }

    /// Every bundled profile says which of its limits are documented and which are ours.
    @Test func everyProfileMarksDocumentedLimitsAndOurChoices() throws {
        let text = try String(contentsOf: PipelineConfigTests.repoRoot.appendingPathComponent("Sources/OmniPostCore/Resources/profiles.yaml"), encoding: .utf8)
        let body = text.components(separatedBy: "\nquotas:")[0]
        for name in profiles.profiles.keys {
            let start = try #require(body.range(of: "\n  \(name):\n"), "\(name)")
            let rest = body[start.upperBound...]
            // The comment between the profile's name and its `accepts:`.
            let block = String(rest[..<(rest.range(of: "\n    accepts:")?.lowerBound ?? rest.endIndex)])
            #expect(block.contains("Documented") && block.contains("Our choice"), "profile \(name) does not say what is documented: \(block)")
        }
    }
}
