import Foundation
import OmniPostCore
import OmniPostMedia
import Testing

@Suite struct MediaTests {
    let profiles = try! ProfileCatalog.bundled()

    @Test func probeReadsTheFactsThePlannerNeeds() async throws {
        let clip = try Clips.make(width: 540, height: 960, seconds: 2)
        let info = try await Prober().probe(path: clip.path, displayName: "v.mp4")
        #expect(info.video?.codec == "h264")
        #expect(info.video?.width == 540 && info.video?.height == 960)
        #expect(abs((info.video?.fps ?? 0) - 30) < 0.01)
        #expect(abs(info.durationS - 2) < 0.2)
        #expect(info.audio?.codec == "aac" && info.audio?.sampleRate == 48000)
        #expect(info.container == "mp4")
    }

    @Test func badFilesGetTheirOwnCodes() async throws {
        let dir = try TempDir()
        let text = try dir.write("notes.mp4", "this is not a video\n")
        let e1 = try await #require(throws: OmniError.self) { try await Prober().probe(path: text.path, displayName: "notes.mp4") }
        #expect(e1.code == .notAVideo)

        let empty = try dir.write("empty.mp4", "")
        let e2 = try await #require(throws: OmniError.self) { try await Prober().probe(path: empty.path, displayName: "empty.mp4") }
        #expect(e2.code == .emptyFile)

        let good = try Data(contentsOf: Clips.make(width: 320, height: 240, seconds: 2, extra: ["-movflags", "+faststart"]))
        let cut = dir.file("cut.mp4")
        try good.prefix(good.count / 3).write(to: cut)
        let e3 = try await #require(throws: OmniError.self) { try await Prober().probe(path: cut.path, displayName: "cut.mp4") }
        #expect(e3.code == .truncatedFile)
        // Also when moov is at the end and the copy stopped in the middle.
        let tailMoov = try Data(contentsOf: Clips.make(width: 320, height: 240, seconds: 2))
        let cut2 = dir.file("cut2.mp4")
        try tailMoov.prefix(tailMoov.count / 2).write(to: cut2)
        let e5 = try await #require(throws: OmniError.self) { try await Prober().probe(path: cut2.path, displayName: "cut2.mp4") }
        #expect(e5.code == .truncatedFile)

        // A video track whose codec nobody knows (its sample entry renamed): present, but undecodable.
        var unknown = try Data(contentsOf: Clips.make(width: 320, height: 240, seconds: 1))
        let tag = try #require(unknown.lastRange(of: Data("avc1".utf8)))
        unknown.replaceSubrange(tag, with: Data("zzzz".utf8))
        let odd = dir.file("odd.mp4")
        try unknown.write(to: odd)
        let e6 = try await #require(throws: OmniError.self) { try await Prober().probe(path: odd.path, displayName: "odd.mp4") }
        #expect(e6.code == .undecodableVideo)

        let audioOnly = dir.file("audio.mp4")
        try Clips.run("ffmpeg", ["-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", audioOnly.path])
        let e4 = try await #require(throws: OmniError.self) { try await Prober().probe(path: audioOnly.path, displayName: "audio.mp4") }
        #expect(e4.code == .noVideoStream)
    }

    @Test func plannerPassesCompliantAndTranscodesWhatDoesNotFit() async throws {
        let vertical = try await Prober().probe(path: Clips.make(width: 540, height: 960, seconds: 2).path, displayName: "v.mp4")
        let landscape = try await Prober().probe(path: Clips.make(width: 1280, height: 720, seconds: 2).path, displayName: "l.mp4")
        let p = Planner(aspectPolicy: .fit)
        #expect(p.plan(vertical, for: profiles["youtube_shorts"]!).kind == .pass)
        #expect(p.plan(landscape, for: profiles["youtube"]!).kind == .pass)
        let d = p.plan(landscape, for: profiles["youtube_shorts"]!)
        #expect(d.kind == .transcode)
        #expect(d.spec?.width == 1080 && d.spec?.height == 1920 && d.spec?.geometry == .pad)
        #expect(Planner(aspectPolicy: .fill).plan(landscape, for: profiles["youtube_shorts"]!).spec?.geometry == .crop)
        let r = Planner(aspectPolicy: .reject).plan(landscape, for: profiles["youtube_shorts"]!)
        #expect(r.kind == .reject && r.rejectCode == .aspectRejected)
    }

    @Test func nonSquarePixelsAreShownAtTheirDisplayShape() async throws {
        let dir = try TempDir()
        let src = dir.file("dv.mp4")
        // PAL DV-style: 720×576 stored, 16:15 pixels → 768×576 shown.
        try Clips.run(
            "ffmpeg",
            [
                "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=720x576:duration=3.2", "-vf", "setsar=16/15",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", src.path
            ])
        let info = try await Prober().probe(path: src.path, displayName: "dv.mp4")
        #expect(info.video?.width == 768 && info.video?.height == 576)
        // To Shorts (vertical or square only), so the landscape picture is transcoded.
        let spec = try #require(Planner().plan(info, for: profiles["youtube_shorts"]!).spec)
        #expect(spec.squarePixels)
        let out = try await Converter().convert(
            input: src.path, output: dir.file("o.mp4").path, spec: spec, durationS: info.durationS,
            verifyAgainst: profiles["youtube_shorts"]!, planner: Planner())
        #expect(out.video?.sar == nil)
    }

    @Test func tooLongIsRejectedWithTheLimit() async throws {
        var info = try await Prober().probe(path: Clips.make(width: 540, height: 960, seconds: 2).path, displayName: "v.mp4")
        info.durationS = 241
        let d = Planner().plan(info, for: profiles["youtube_shorts"]!)
        #expect(d.kind == .reject)
        #expect(d.rejectCode == .durationOutOfRange)
        #expect(d.rejectMessage?.contains("241 s > 180 s") == true)
    }

    @Test func convertProducesAVerifiedRendition() async throws {
        let dir = try TempDir()
        let src = try Clips.make(width: 1280, height: 720, seconds: 2)
        let info = try await Prober().probe(path: src.path, displayName: "l.mp4")
        let planner = Planner(aspectPolicy: .fit)
        let spec = try #require(planner.plan(info, for: profiles["youtube_shorts"]!).spec)
        let progress = LinesBox()
        let out = dir.file("work/r.mp4").path
        let result = try await Converter().convert(
            input: src.path, output: out, spec: spec, durationS: info.durationS, verifyAgainst: profiles["youtube_shorts"]!,
            planner: planner
        ) { p in progress.add("\(p.fraction)") }
        #expect(result.video?.width == 1080 && result.video?.height == 1920)
        #expect(result.video?.codec == "h264")
        #expect(FileManager.default.fileExists(atPath: out))
        #expect(!progress.all.isEmpty)
        // Nothing half-written is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("work").path) == ["r.mp4"])
    }
}
