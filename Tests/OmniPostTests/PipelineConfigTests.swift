import Foundation
import OmniPostCore
import OmniPostPlatforms
import Testing

@Suite struct PipelineConfigTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func demoPipelineParses() throws {
        let c = try PipelineConfig.load(path: Self.repoRoot.appendingPathComponent("pipelines/demo.yaml").path)
        #expect(c.name == "demo")
        #expect(c.sandbox == .embedded)
        #expect(
            c.targets.map(\.name) == [
                "youtube:main", "shorts:main", "tiktok:main", "instagram:main", "x:main", "linkedin:main",
                "vimeo:main", "bluesky:main", "reddit:main", "douyin:main", "folder:nas", "xiaohongshu:main",
                "kuaishou:main", "bilibili:main", "wechat_channels:main"
            ])
        #expect(c.targets[1].profile == "youtube_shorts" && c.targets[1].accountKey == "youtube:main")
        #expect(c.upload.chunkSize == 262_144)
        #expect(c.watch.settle == .milliseconds(500))
        #expect(c.paths.inbox.path.hasSuffix("demo-state/inbox"))
        #expect(c.accounts["youtube:main"] != nil)
    }

    @Test func errorsPointAtTheLine() throws {
        let cases: [(String, ReasonCode, String)] = [
            ("targets: [youtube:main]\nupload: {chunk_size: 100KiB}\n", .configInvalid, "test.yaml:2:22"),
            ("targets: [youtub:main]\nsandbox: embedded\n", .configInvalid, "test.yaml:1:11"),
            ("targets: [youtube:main]\nwatch: {mode: inotfy}\n", .configInvalid, "test.yaml:2:15"),
            ("targets: [youtube:main]\nsandbx: embedded\n", .unknownKey, "test.yaml:2:1"),
            ("targets: [youtube:main]\n", .configInvalid, "test.yaml:1:10")
        ]
        for (text, code, loc) in cases {
            let e = try #require(throws: OmniError.self) {
                try PlatformRegistry.parse(text: text, file: "test.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
            }
            #expect(e.code == code, "\(text)")
            #expect(e.location?.description == loc, "\(text) → \(e)")
        }
    }

    @Test func bundledProfilesLoadAndCoverEveryPlatform() throws {
        let p = try ProfileCatalog.bundled()
        for name in ["youtube", "youtube_shorts", "tiktok", "instagram_reels", "facebook_reels", "threads", "x", "linkedin", "bluesky", "reddit", "vimeo", "any"] {
            #expect(p[name] != nil, "missing profile \(name)")
        }
        #expect(p["youtube_shorts"]?.durationS.max == 180)
        #expect(p["youtube"]?.text.title?.limits == [TextLimit(max: 100, counts: .graphemes)])
        // Acceptance and recommendation apart: YouTube enforces no bitrate, takes ProRes and PCM, shows HDR in HEVC.
        #expect(p["youtube"]?.maxVideoKbps == nil && p["youtube"]?.recommends.maxrateKbps == 68000)
        #expect(p["youtube"]?.videoCodecs.contains("prores") == true && p["youtube"]?.audioCodecs.contains("pcm_s24le") == true)
        #expect(p["youtube"]?.takesHDR(in: "hevc") == true && p["youtube"]?.takesHDR(in: "h264") == false)
        #expect(p["tiktok"]?.hdrCodecs.isEmpty == true && p["any"]?.takesHDR(in: "h264") == true)
        #expect(p["instagram_reels"]?.maxVideoKbps == 25000)
    }

    /// A pipeline's own profiles file: `accepts:`/`recommends:`, or the older flat layout with `render:`;
    /// a stray acceptance key beside `accepts:` and a bad preset are refused with their line.
    @Test func profileFilesInBothLayouts() throws {
        let nested = try ProfileCatalog.parse(
            text: """
                profiles:
                  mine:
                    platform: s3
                    accepts:
                      containers: [mp4]
                      video_codecs: [h264]
                      audio_codecs: [aac]
                      pixel_formats: [yuv420p]
                      hdr_codecs: ["*"]
                      width: [16, 4096]
                      height: [16, 4096]
                      aspect: [0.1, 10]
                      fps: [1, 60]
                      duration_s: [0, 600]
                      max_bytes: 1000000
                      max_video_kbps: null
                      audio: {max_channels: 2}
                      moov_first: true
                    recommends: {width: 1280, height: 720, crf: 19, preset: slow, maxrate_kbps: 9000, gop_s: 1.5, audio_kbps: 160}
                    text: {}
                """, file: "mine.yaml")
        let m = try #require(nested["mine"])
        #expect(m.maxVideoKbps == nil && m.takesHDR(in: "vp9") && m.moovFirst)
        #expect(m.recommends.crf == 19 && m.recommends.preset == "slow" && m.recommends.bufsizeKbps == 18000 && m.recommends.gopSeconds == 1.5)
        let flat = try ProfileCatalog.parse(
            text: """
                profiles:
                  old:
                    platform: youtube
                    containers: [mp4]
                    video_codecs: [h264]
                    audio_codecs: [aac]
                    pixel_formats: [yuv420p]
                    width: [16, 4096]
                    height: [16, 4096]
                    aspect: [0.1, 10]
                    fps: [1, 60]
                    duration_s: [0, 600]
                    max_bytes: 1000000
                    max_video_kbps: 8000
                    audio: {max_channels: 2}
                    moov_first: false
                    render: {width: 1920, height: 1080, fps_max: 30}
                    text: {}
                """, file: "old.yaml")
        #expect(flat["old"]?.maxVideoKbps == 8000 && flat["old"]?.recommends.fpsMax == 30 && flat["old"]?.hdrCodecs.isEmpty == true)
        let stray = #expect(throws: OmniError.self) {
            _ = try ProfileCatalog.parse(text: "profiles:\n  x:\n    platform: s3\n    containers: [mp4]\n    accepts: {containers: [mp4]}\n", file: "x.yaml")
        }
        #expect(stray?.message.contains("belongs under `accepts:`") == true && stray?.location?.line == 4)
        let preset = #expect(throws: OmniError.self) {
            _ = try ProfileCatalog.parse(text: nestedMinimal(recommends: "{preset: glacial}"), file: "p.yaml")
        }
        #expect(preset?.message.contains("glacial") == true)
    }

    func nestedMinimal(recommends: String) -> String {
        """
        profiles:
          p:
            platform: s3
            accepts: {containers: [mp4], video_codecs: [], audio_codecs: [], pixel_formats: [], width: [1, 9], height: [1, 9], aspect: [0.1, 10], fps: [1, 60], duration_s: [0, 9], max_bytes: 9, audio: {}, moov_first: false}
            recommends: \(recommends)
            text: {}
        """
    }
}
