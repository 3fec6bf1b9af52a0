import Foundation
import OmniPostCore
import OmniPostMedia
import Testing

/// Conversions on ffmpeg-generated clips, each checked by probing the result.
@Suite struct ConversionTests {
    let profiles = try! ProfileCatalog.bundled()

    func probe(_ u: URL) async throws -> MediaInfo { try await Prober().probe(path: u.path, displayName: u.lastPathComponent) }

    func convert(_ src: URL, for profile: Profile, policy: AspectPolicy = .fit, in dir: TempDir, name: String = "out.mp4") async throws -> (Planner.Decision, URL, MediaInfo) {
        let info = try await probe(src)
        let planner = Planner(aspectPolicy: policy)
        let d = planner.plan(info, for: profile)
        let spec = try #require(d.spec, "expected a conversion, got \(d.kind): \(d.reasons)")
        let out = dir.file(name)
        let result = try await Converter().convert(
            input: src.path, output: out.path, spec: spec, durationS: info.durationS,
            verifyAgainst: profile, planner: planner)
        return (d, out, result)
    }

    @Test func moovAtTheEndIsRemuxedWithoutReencoding() async throws {
        let dir = try TempDir()
        let src = try Clips.make(width: 540, height: 960, seconds: 3.2)  // no faststart: moov after mdat
        #expect(try await probe(src).moovFirst == false)
        let (d, out, result) = try await convert(src, for: profiles["instagram_reels"]!, in: dir)
        #expect(d.kind == .remux)
        #expect(result.moovFirst == true)
        #expect(try await MediaChecks.videoPacketsMD5(out) == MediaChecks.videoPacketsMD5(src))
        // And a compliant clip is not touched at all.
        #expect(Planner().plan(try await probe(src), for: profiles["youtube_shorts"]!).kind == .pass)
    }

    @Test(arguments: [AspectPolicy.fit, .fill])
    func landscapeToVertical(policy: AspectPolicy) async throws {
        let dir = try TempDir()
        let src = try Clips.make(width: 1280, height: 720, seconds: 3.2)
        // Shorts takes vertical or square only (TikTok documents no aspect limit: a 16:9 clip goes to it as is).
        let (d, out, result) = try await convert(src, for: profiles["youtube_shorts"]!, policy: policy, in: dir)
        #expect(d.kind == .transcode)
        #expect(result.video?.width == 1080 && result.video?.height == 1920)
        // fit pads (black bands above and below the picture); fill crops (picture to every edge).
        let crop = try cropDetect(out)
        if policy == .fit { #expect(crop.height < 1000 && crop.height > 500, "\(crop)") } else { #expect(crop.height > 1800, "\(crop)") }
    }

    func cropDetect(_ u: URL) throws -> (width: Int, height: Int) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ffmpeg", "-nostdin", "-hide_banner", "-i", u.path, "-vf", "cropdetect=limit=24:round=2", "-frames:v", "5", "-f", "null", "-"]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard let r = text.range(of: "crop=", options: .backwards) else { return (0, 0) }
        let parts = text[r.upperBound...].prefix { $0 != "\n" }.split(separator: ":")
        return (Int(parts[0]) ?? 0, Int(parts[1]) ?? 0)
    }

    @Test func fourK60IsBroughtDownToA1080p30Profile() async throws {
        // A pipeline may supply its own profiles: this one caps at 1080p and 30 fps.
        let custom = try ProfileCatalog.parse(
            text: """
                profiles:
                  hd30:
                    platform: s3
                    containers: [mp4]
                    video_codecs: [h264]
                    audio_codecs: [aac]
                    pixel_formats: [yuv420p]
                    width: [16, 1920]
                    height: [16, 1920]
                    aspect: [0.3, 3]
                    fps: [1, 30]
                    duration_s: [0, 600]
                    max_bytes: 1000000000
                    max_video_kbps: 8000
                    audio: {sample_rates: [48000], max_channels: 2, required: false}
                    moov_first: true
                    render: {width: 1920, height: 1080, fps_max: 30}
                    text: {}
                """, file: "custom.yaml")
        let dir = try TempDir()
        let src = try Clips.make(width: 3840, height: 2160, seconds: 1, fps: 60)
        let (_, _, result) = try await convert(src, for: custom["hd30"]!, in: dir)
        #expect(result.video?.width == 1920 && result.video?.height == 1080)
        #expect(abs((result.video?.fps ?? 0) - 30) < 0.01)
    }

    @Test func hevcBecomesH264() async throws {
        let dir = try TempDir()
        let src = try Clips.make(width: 640, height: 360, seconds: 1, codec: "libx265", extra: ["-tag:v", "hvc1"])
        #expect(try await probe(src).video?.codec == "hevc")
        let (d, _, result) = try await convert(src, for: profiles["x"]!, in: dir)
        #expect(d.reasons.contains { $0.contains("video codec hevc") })
        #expect(result.video?.codec == "h264" && result.video?.pixelFormat == "yuv420p")
    }

    @Test func variableFrameRateComesOutConstant() async throws {
        let dir = try TempDir()
        let src = dir.file("vfr.mp4")
        // Frames 0–29 at 30 fps, then the rest at 10 fps: a phone screen recording's kind of timing.
        try Clips.run(
            "ffmpeg",
            [
                "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=4",
                "-vf", "setpts='if(lt(N,30),N/30/TB,(30+(N-30)*3)/30/TB)'", "-fps_mode", "vfr",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-r", "1000", src.path
            ])
        let info = try await probe(src)
        #expect(!profiles["tiktok"]!.fps.contains(info.video!.fps) || info.video!.fps > 59)
        let (_, out, result) = try await convert(src, for: profiles["tiktok"]!, in: dir)
        #expect(profiles["tiktok"]!.fps.contains(result.video!.fps))
        let frames = try framesCount(out)
        #expect(frames > 0)
    }

    func framesCount(_ u: URL) throws -> Int {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ffprobe", "-v", "error", "-count_packets", "-select_streams", "v:0", "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", u.path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let d = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Int(String(decoding: d, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    @Test func phoneRotationIsReadAndBakedInWhenTranscoding() async throws {
        let dir = try TempDir()
        let raw = try Clips.make(width: 1280, height: 720, seconds: 1)
        let rotated = dir.file("phone.mp4")
        // Stored landscape, shown portrait: what phones write.
        try Clips.run("ffmpeg", ["-nostdin", "-loglevel", "error", "-i", raw.path, "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated.path])
        let info = try await probe(rotated)
        #expect(abs(info.video!.rotation) == 90)
        #expect(info.video!.width == 720 && info.video!.height == 1280)
        // X caps the height at 1024: a transcode is needed, and it comes out upright with no rotation left.
        let (_, _, result) = try await convert(rotated, for: profiles["x"]!, in: dir)
        #expect(result.video!.rotation == 0)
        #expect(result.video!.height > result.video!.width)
    }

    @Test func silentTrackIsAddedWhereTheTargetNeedsAudio() async throws {
        let dir = try TempDir()
        let src = try Clips.make(width: 540, height: 960, seconds: 3.2, audio: false)
        let (d, _, result) = try await convert(src, for: profiles["instagram_reels"]!, in: dir)
        #expect(d.spec?.addSilentAudio == true)
        #expect(result.audio?.codec == "aac" && result.audio?.channels == 2 && result.audio?.sampleRate == 48000)
        #expect(abs(result.durationS - 3.2) < 0.2)
    }

    @Test func ffmpegFailureIsReportedWithItsOwnWordsAndTheOriginalKept() async throws {
        let dir = try TempDir()
        let src = try Clips.make(width: 320, height: 240, seconds: 3.2)
        let before = try FileHashing.sha256(path: src.path).hex
        // A landscape clip to Shorts (vertical or square only): a transcode.
        var spec = try #require(Planner().plan(try await probe(src), for: profiles["youtube_shorts"]!).spec)
        spec.preset = "no-such-preset"
        let e = try await #require(throws: OmniError.self) {
            _ = try await Converter().convert(
                input: src.path, output: dir.file("o.mp4").path, spec: spec, durationS: 1,
                verifyAgainst: nil, planner: Planner())
        }
        #expect(e.code == .ffmpegFailed)
        #expect(e.message.contains("exited with status"))
        #expect(try FileHashing.sha256(path: src.path).hex == before)
        #expect(files(under: dir.url).isEmpty)
    }
}
