import Foundation
import OmniPostCore
@testable import OmniPostMedia
import Testing

/// A rendition whose video was copied (a remux, an audio-only conversion) is checked from its own boxes
/// and its source's probe, without ffprobe (issue 30's convert overhead). What that reader answers must be
/// what ffprobe answers, for every kind of source the planner copies from; and where it cannot be sure, it
/// must not answer at all, so ffprobe does.
@Suite struct CopiedRenditionTests {
    /// A source made by ffmpeg from lavfi: the video's and audio's arguments, into `name`.
    static func source(_ dir: TempDir, _ name: String, video: [String], audio: [String]?, extra: [String] = [], seconds: Double = 3.2) throws -> URL {
        var args = ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=\(video[0]):rate=\(video[1]):duration=\(seconds)"]
        if let audio { args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=\(audio[0]):duration=\(seconds)"] }
        args += ["-map", "0:v"] + (audio == nil ? [] : ["-map", "1:a", "-ac", audio![1], "-c:a", audio![2]])
        args += ["-c:v", video[2], "-preset", "ultrafast", "-pix_fmt", "yuv420p"] + extra + [dir.file(name).path]
        try Clips.run("ffmpeg", args)
        return dir.file(name)
    }

    struct Case {
        var label: String
        var file: URL
        var profile: String
        var kind: PlanKind
    }

    /// Sources the planner copies the video of, each with the profile and the plan it gets.
    static func cases(_ dir: TempDir) throws -> [Case] {
        [
            // Matroska from an editor: the container alone is refused — a remux.
            Case(
                label: "h264 + aac in mkv", file: try Self.source(dir, "a.mkv", video: ["1080x1920", "30", "libx264"], audio: ["48000", "2", "aac"]),
                profile: "tiktok", kind: .remux),
            // A camera's .mov with PCM: the audio is made anew, the video copied.
            Case(
                label: "h264 + pcm in mov", file: try Self.source(dir, "b.mov", video: ["720x1280", "25", "libx264"], audio: ["48000", "2", "pcm_s16le"]),
                profile: "tiktok", kind: .audio),
            // Mono 44.1 kHz PCM: encoded as the profile recommends.
            Case(
                label: "mono 44.1 kHz pcm", file: try Self.source(dir, "c.mov", video: ["720x1280", "30", "libx264"], audio: ["44100", "1", "pcm_s16le"]),
                profile: "tiktok", kind: .audio),
            // Opus in Matroska for a platform that takes AAC only: audio-only.
            Case(
                label: "h264 + opus in mkv", file: try Self.source(dir, "d.mkv", video: ["1080x1920", "30", "libx264"], audio: ["48000", "2", "libopus"]),
                profile: "instagram_reels", kind: .audio),
            // A phone's portrait clip stored landscape with a rotation, PCM audio.
            Case(
                label: "rotated 90°", file: try Self.source(
                    dir, "e.mov", video: ["1280x720", "30", "libx264"], audio: ["48000", "2", "pcm_s16le"], extra: ["-metadata:s:v:0", "rotate=90"]),
                profile: "tiktok", kind: .audio),
            // HEVC in Matroska, no audio, to TikTok (which takes HEVC in MP4): a remux with no audio track.
            Case(
                label: "hevc, no audio, in mkv", file: try Self.source(dir, "f.mkv", video: ["640x360", "24", "libx265"], audio: nil),
                profile: "tiktok", kind: .remux)
        ]
    }

    @Test func theBoxesOfACopiedRenditionSayWhatFFprobeSays() async throws {
        let dir = try TempDir()
        let profiles = try ProfileCatalog.bundled()
        let cases = try await offPool { [dir] in try Self.cases(dir) }
        let planner = Planner()
        for c in cases {
            let info = try await Prober().probe(path: c.file.path, displayName: c.file.lastPathComponent)
            let profile = try #require(profiles[c.profile])
            let decision = planner.plan(info, for: profile)
            try #require(decision.kind == c.kind, "\(c.label): planned \(decision.kind) (\(decision.reasons))")
            let spec = try #require(decision.spec)
            let out = dir.file("\(c.file.deletingPathExtension().lastPathComponent)-out.\(spec.fileExtension)")
            let converted = try await Converter().convert(
                input: c.file.path, output: out.path, spec: spec, durationS: info.durationS, verifyAgainst: profile, planner: planner, source: info)
            let boxes = try #require(
                CopiedRendition.info(path: out.path, displayName: out.lastPathComponent, spec: spec, source: info), "\(c.label): the boxes gave no answer")
            let ffprobe = try await Prober().probe(path: out.path, displayName: out.lastPathComponent)
            // The converter took the boxes' answer.
            #expect(converted == boxes, "\(c.label)")
            // Field by field against ffprobe: the ones the planner reads exactly; the frame rate's variability
            // flag is the source's (ffprobe's own guess about the copy can differ), the layout of >2 channels unnamed.
            #expect(boxes.formatName == ffprobe.formatName, "\(c.label)")
            #expect(boxes.container == ffprobe.container, "\(c.label)")
            #expect(abs(boxes.durationS - ffprobe.durationS) < 0.001, "\(c.label): \(boxes.durationS) vs \(ffprobe.durationS)")
            #expect(boxes.sizeBytes == ffprobe.sizeBytes, "\(c.label)")
            #expect(boxes.bitRate.map { abs($0 - (ffprobe.bitRate ?? 0)) <= 1 } == true, "\(c.label): \(boxes.bitRate ?? 0) vs \(ffprobe.bitRate ?? 0)")
            #expect(boxes.moovFirst == ffprobe.moovFirst, "\(c.label)")
            #expect(boxes.audio == ffprobe.audio, "\(c.label): \(String(describing: boxes.audio)) vs \(String(describing: ffprobe.audio))")
            var bv = try #require(boxes.video), fv = try #require(ffprobe.video)
            #expect(bv.bitRate.map { abs($0 - (fv.bitRate ?? 0)) <= 1 } == true, "\(c.label): \(bv.bitRate ?? 0) vs \(fv.bitRate ?? 0)")
            #expect(abs(bv.fps - fv.fps) < 0.01, "\(c.label): \(bv.fps) vs \(fv.fps)")
            (bv.bitRate, fv.bitRate, bv.fps, fv.fps, bv.variableFrameRate, fv.variableFrameRate) = (nil, nil, 0, 0, nil, nil)
            #expect(bv == fv, "\(c.label)")
            #expect(planner.plan(boxes, for: profile).kind == .pass, "\(c.label)")
        }
    }

    /// Where the rendition is not what its spec and source say, the boxes give no answer (ffprobe then
    /// says what it is, and the planner refuses it).
    @Test func aRenditionThatIsNotWhatWasAskedGetsNoAnswerFromTheBoxes() async throws {
        let dir = try TempDir()
        let profiles = try ProfileCatalog.bundled()
        let src = try await offPool { [dir] in try Self.source(dir, "b.mov", video: ["720x1280", "25", "libx264"], audio: ["48000", "2", "pcm_s16le"]) }
        let info = try await Prober().probe(path: src.path, displayName: "b.mov")
        let spec = try #require(Planner().plan(info, for: profiles["tiktok"]!).spec)
        #expect(spec.kind == .audio)
        // Renditions that are not what this source and spec make, and one that is.
        let (wrongRate, silent, other, fps, short, right) = try await offPool { [dir] in
            (
                try Self.source(dir, "r.mp4", video: ["720x1280", "25", "libx264"], audio: ["44100", "2", "aac"]),
                try Self.source(dir, "s.mp4", video: ["720x1280", "25", "libx264"], audio: nil),
                try Self.source(dir, "o.mp4", video: ["1080x1920", "25", "libx264"], audio: ["48000", "2", "aac"]),
                try Self.source(dir, "f.mp4", video: ["720x1280", "30", "libx264"], audio: ["48000", "2", "aac"]),
                try Self.source(dir, "h.mp4", video: ["720x1280", "25", "libx264"], audio: ["48000", "2", "aac"], seconds: 1.6),
                try Self.source(dir, "ok.mp4", video: ["720x1280", "25", "libx264"], audio: ["48000", "2", "aac"])
            )
        }
        // Audio at 44.1 kHz where 48 kHz was asked.
        #expect(CopiedRendition.info(path: wrongRate.path, displayName: "r.mp4", spec: spec, source: info) == nil)
        // No audio track where one was asked.
        #expect(CopiedRendition.info(path: silent.path, displayName: "s.mp4", spec: spec, source: info) == nil)
        // Another picture size (not a copy of this source).
        #expect(CopiedRendition.info(path: other.path, displayName: "o.mp4", spec: spec, source: info) == nil)
        // Another frame rate.
        #expect(CopiedRendition.info(path: fps.path, displayName: "f.mp4", spec: spec, source: info) == nil)
        // Half as long.
        #expect(CopiedRendition.info(path: short.path, displayName: "h.mp4", spec: spec, source: info) == nil)
        // The right one is answered.
        #expect(CopiedRendition.info(path: right.path, displayName: "ok.mp4", spec: spec, source: info) != nil)
        // Not an MP4 at all, or cut short inside its index.
        try Data("not a video\n".utf8).write(to: dir.file("t.mp4"))
        #expect(CopiedRendition.info(path: dir.file("t.mp4").path, displayName: "t.mp4", spec: spec, source: info) == nil)
        let whole = try Data(contentsOf: right)
        try whole.prefix(2000).write(to: dir.file("cut.mp4"))
        #expect(CopiedRendition.info(path: dir.file("cut.mp4").path, displayName: "cut.mp4", spec: spec, source: info) == nil)
    }

    /// The reader walks a file's bytes: every mangled `moov` (bytes flipped, sizes cut) gives an answer
    /// or nil, never a trap.
    @Test func aMangledIndexIsReadWithoutATrap() throws {
        let dir = try TempDir()
        let clip = try Self.source(dir, "m.mp4", video: ["320x240", "30", "libx264"], audio: ["48000", "2", "aac"], extra: ["-movflags", "+faststart"])
        let bytes = [UInt8](try Data(contentsOf: clip))
        // The moov: right after ftyp when written with +faststart.
        let ftyp = Int(MoovIndex.be32(bytes, 0)!)
        let moovSize = Int(MoovIndex.be32(bytes, ftyp)!)
        let moov = Array(bytes[ftyp..<ftyp + moovSize])
        #expect(MoovTracks.parse(moov: moov)?.tracks.count == 2)
        // A sample table box cut to its bare header (stts, then stsz: no room even for their own fields)
        // is read as a clip that says nothing of its samples, not a trap (the fuzz below found stts's once).
        for name in ["stts", "stsz"] {
            var m = moov
            let at = try #require((0..<(m.count - 4)).first { String(decoding: m[$0..<$0 + 4], as: UTF8.self) == name }) - 4
            m.replaceSubrange(at..<at + 4, with: [0, 0, 0, 8])
            _ = MoovTracks.parse(moov: m)
        }
        var rng = SystemRandomNumberGenerator()
        for round in 0..<3000 {
            var m = moov
            for _ in 0..<(1 + round % 8) {
                let i = Int.random(in: 8..<m.count, using: &rng)
                m[i] = round % 3 == 0 ? 0xFF : UInt8.random(in: 0...255, using: &rng)
            }
            if round % 5 == 0 { m = Array(m.prefix(Int.random(in: 8..<m.count, using: &rng))) }
            _ = MoovTracks.parse(moov: m)
        }
    }

    /// A `moov` nesting 5,000 `trak`s in 40 KB (what a hostile or broken writer may leave): the
    /// completeness check and the box reader answer without following it down — the walk used to recurse
    /// once a level and overflowed the stack, a crash at every start.
    @Test func aDeeplyNestedIndexIsNotFollowedDown() throws {
        let dir = try TempDir()
        func box(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let n = UInt32(8 + body.count)
            return [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + Array(type.utf8) + body
        }
        var inner: [UInt8] = box("stbl", [])
        for _ in 0..<5_000 { inner = box("trak", inner) }
        let bytes = box("ftyp", Array("isom".utf8) + [0, 0, 2, 0] + Array("isommp41".utf8)) + box("moov", inner) + box("mdat", [1, 2, 3])
        let file = dir.file("deep.mp4")
        try Data(bytes).write(to: file)
        _ = Completeness.video(path: file.path)
        #expect(MoovTracks.read(path: file.path)?.tracks.isEmpty != false)
        #expect(MoovIndex.dataEnd(moov: box("moov", inner)) == nil)
    }
}
