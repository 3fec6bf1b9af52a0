import Foundation
import OmniPostCore
import OmniPostMedia
import OmniPostPipeline
@testable import OmniPostPlatforms
import Testing

@Suite(.serialized) struct CoverTests {
    @Test func frameAtTimeIsExtractedAsASmallJPEG() async throws {
        let dir = try TempDir()
        let clip = try Clips.make(width: 1920, height: 1080, seconds: 2)
        let out = dir.file("cover.jpg").path
        try await CoverMaker().make(clip: clip.path, atMs: 1500, image: nil, output: out)
        let data = try Data(contentsOf: URL(fileURLWithPath: out))
        #expect(data.starts(with: [0xFF, 0xD8, 0xFF]))
        #expect(Int64(data.count) <= CoverMaker.maxOutputBytes)
        let dims = try await CoverMaker().checkImage(path: out, displayName: "cover.jpg")
        #expect(dims.width == 1280 && dims.height == 720)
    }

    @Test func coversReachTheSandboxAndBadOnesAreRejected() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]")
        let clip = try Clips.make(width: 540, height: 960, seconds: 2)
        try Clips.copy(clip, to: config.paths.inbox.appendingPathComponent("framed.mp4"))
        try dir.write("inbox/framed.yaml", "title: framed\ncover: {at_ms: 1000}\n")
        try Clips.copy(try Clips.make(width: 540, height: 960, seconds: 2.5), to: config.paths.inbox.appendingPathComponent("withfile.mp4"))
        try dir.write("inbox/withfile.yaml", "title: with file\ncover: {file: art/thumb.png}\n")
        try FileManager.default.createDirectory(at: config.paths.inbox.appendingPathComponent("art"), withIntermediateDirectories: true)
        try Clips.run(
            "ffmpeg",
            [
                "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=1600x900", "-frames:v", "1",
                config.paths.inbox.appendingPathComponent("art/thumb.png").path
            ])
        try Clips.copy(try Clips.make(width: 540, height: 960, seconds: 2.6), to: config.paths.inbox.appendingPathComponent("fake.mp4"))
        try dir.write("inbox/fake.yaml", "title: fake\ncover: {file: notes.jpg}\n")
        try dir.write("inbox/notes.jpg", "this is text, not a picture")
        try Clips.copy(try Clips.make(width: 540, height: 960, seconds: 2.7), to: config.paths.inbox.appendingPathComponent("late.mp4"))
        try dir.write("inbox/late.yaml", "title: late\ncover: {at_ms: 9000}\n")

        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let drops = try p.context.ledger.drops()
            func drop(_ stem: String) -> DropRecordView? { drops.first { $0.stem == stem }.map { DropRecordView(state: "\($0.state)", code: $0.reasonCode) } }
            #expect(drop("framed")?.state == "archived")
            #expect(drop("withfile")?.state == "archived")
            #expect(drop("fake")?.code == "not_an_image")
            #expect(drop("late")?.code == "invalid_value")
            let videos = await p.sandbox!.state.allVideos()
            #expect(videos.count == 2)
            #expect(videos.allSatisfy { $0.thumbnailSha256 != nil })
            // The supplied image is an original: archived with its drop.
            #expect(files(under: config.paths.archive).contains { $0.hasSuffix("/art/thumb.png") })
            #expect(files(under: config.paths.failed).contains { $0.hasSuffix("/notes.jpg") })
        }
    }

    /// A cover file reaches every platform that takes an image: YouTube's thumbnail, Vimeo's custom
    /// thumbnail, Instagram's `cover_url` (the image put on the media host for Instagram to fetch).
    @Test func aCoverFileReachesEveryPlatformThatTakesAnImage() async throws {
        let dir = try TempDir()
        try FileManager.default.createDirectory(at: dir.file("inbox"), withIntermediateDirectories: true)
        try Clips.run(
            "ffmpeg", ["-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=720x1280", "-frames:v", "1", dir.file("inbox/art.png").path])
        try await TestPipelines.publishOnce(
            dir, targets: "youtube:main, vimeo:main, instagram:main", clip: try Clips.make(width: 540, height: 960, seconds: 3),
            sidecar: "title: covered\nprivacy: public\ncover: {file: art.png}\n"
        ) { p, deliveries in
            let videos = await p.sandbox!.state.allVideos()
            for platform in ["youtube", "vimeo", "instagram"] {
                let v = try #require(videos.first { $0.platform == platform }, "\(platform)")
                #expect(v.thumbnailSha256 != nil, "\(platform) got no cover")
            }
            // One cover, made once from the file: the same image everywhere.
            #expect(Set(videos.compactMap(\.thumbnailSha256)).count == 1)
        }
    }

    struct DropRecordView { var state: String; var code: String? }

    /// The cover is part of the delivery: a 5xx is tried again, a rate limit leaves the delivery
    /// unpublished, and the next attempt — finding the video whole — sets it; a refusal for good is noted.
    @Test func aCoverRefusedForNowIsSetByTheNextAttemptNotDropped() async throws {
        let dir = try TempDir()
        let rig = try await PlatformRig.make(YouTubePlatform.self, dir, size: 600_000, faults: .init(failFollowUps: [503, 429]))
        try await stopping(rig.server) {
            let cover = dir.file("cover.jpg")
            try Data([0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 5, count: 900)).write(to: cover)
            var job = rig.job(PublishMetadata(title: "with a cover", description: "", tags: [], privacy: .unlisted, publishAt: nil, options: [:]))
            job.coverPath = cover.path
            let seen = CheckpointLog()
            let e = await #expect(throws: DeliveryError.self) {
                _ = try await rig.adapter.deliver(job, checkpoint: { seen.add($0) }, progress: { _, _ in })
            }
            guard case .retryAt = e?.kind else { Issue.record("expected a wait: \(String(describing: e))"); return }
            let bare = await rig.state.allVideos()
            #expect(bare.count == 1 && bare[0].thumbnailSha256 == nil)
            job.session = seen.all.last?.session
            job.confirmedOffset = seen.all.last?.confirmedOffset ?? 0
            let out = try await rig.adapter.deliver(job, checkpoint: { _ in }, progress: { _, _ in })
            let videos = await rig.state.allVideos(), tries = await rig.state.requestCounts["youtube.thumbnails"]
            #expect(out.reconciled && out.coverSet == true && out.bytesSent == 0 && videos.count == 1 && videos[0].thumbnailSha256 != nil && tries == 3)
            // Not an image YouTube takes: refused for good, noted on the published video.
            try Data("not a picture".utf8).write(to: cover)
            let noted = try await rig.adapter.deliver(job, checkpoint: { _ in }, progress: { _, _ in })
            #expect(noted.coverSet == false && noted.coverError?.contains("invalidImage") == true, "\(noted)")
        }
    }
}

@Suite struct ConvertOptionTests {
    @Test func loudnormIsAppliedToTranscodedAudio() async throws {
        let dir = try TempDir()
        let src = try Clips.make(width: 1280, height: 720, seconds: 3.2)
        let info = try await Prober().probe(path: src.path, displayName: "l.mp4")
        let profiles = try ProfileCatalog.bundled()
        let planner = Planner(aspectPolicy: .fit, loudnorm: true)
        // Landscape to Shorts (vertical or square only): a transcode.
        let spec = try #require(planner.plan(info, for: profiles["youtube_shorts"]!).spec)
        #expect(spec.loudnorm)
        #expect(FFmpegArguments.build(input: "i", output: "o", spec: spec).contains("loudnorm=I=-14:TP=-1.5:LRA=11"))
        let out = try await Converter().convert(
            input: src.path, output: dir.file("o.mp4").path, spec: spec, durationS: info.durationS,
            verifyAgainst: profiles["youtube_shorts"]!, planner: planner)
        #expect(out.audio?.codec == "aac")
    }

    @Test func aPipelineCanOverrideAndAddProfiles() throws {
        let dir = try TempDir()
        try dir.write(
            "mine.yaml",
            """
            profiles:
              youtube_shorts:
                platform: youtube
                containers: [mp4]
                video_codecs: [h264]
                audio_codecs: [aac]
                pixel_formats: [yuv420p]
                width: [128, 1080]
                height: [128, 1920]
                aspect: [0.5, 1.0]
                fps: [1, 60]
                duration_s: [1, 60]
                max_bytes: 1000000000
                max_video_kbps: 20000
                audio: {sample_rates: [48000], max_channels: 2, required: false}
                moov_first: false
                render: {width: 1080, height: 1920, fps_max: 60}
                text: {title_max: 100}
            """)
        let c = try PipelineConfig.parse(text: "targets: [youtube:main]\nsandbox: embedded\nprofiles: mine.yaml\n", file: "p.yaml", baseDirectory: dir.url)
        #expect(c.overrides.profiles["youtube_shorts"]?.durationS.max == 60)
        let bad = try dir.write("bad.yaml", "profiles:\n  x: {platform: s3}\n")
        let e = try #require(throws: OmniError.self) {
            try PipelineConfig.parse(text: "targets: [youtube:main]\nsandbox: embedded\nprofiles: bad.yaml\n", file: "p.yaml", baseDirectory: dir.url)
        }
        #expect(e.location?.file == bad.path)
        #expect(e.message.contains("profile 'x' needs `"))
    }
}
