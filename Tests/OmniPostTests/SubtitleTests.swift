import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostMedia
@testable import OmniPostPipeline
@testable import OmniPostPlatforms
import OmniPostSandbox
import Testing

/// Subtitle tracks: `.srt`/`.vtt` files beside the clip (`walk.en.srt`) or listed in `subtitles:`, part of
/// the drop's file set, their cue timing checked at validation (`subtitles_invalid` at file:line:col),
/// and added after the post on each platform that takes a track — YouTube's `captions.insert`, Vimeo's
/// text tracks, Facebook's captions — each once.
@Suite struct SubtitleTests {
    static let english = """
        1
        00:00:00,000 --> 00:00:01,500
        Hello there.

        2
        00:00:01,500 --> 00:00:02,900
        Up the hill.

        """
    static let german = """
        WEBVTT

        NOTE written by hand

        00:00.000 --> 00:01.500 line:90%
        Hallo.

        intro-2
        00:01.500 --> 00:02.900
        Den Hügel hinauf.

        """

    @Test func cuesAreReadFromSubRipAndWebVTT() throws {
        let srt = try SubtitleFile.parse(Self.english, format: .srt, file: "walk.en.srt")
        #expect(srt.cues.count == 2 && srt.cues[1].start == 1.5 && srt.cues[1].end == 2.9 && srt.cues[1].text == "Up the hill.")
        let vtt = try SubtitleFile.parse(Self.german, format: .vtt, file: "walk.de.vtt")
        #expect(vtt.cues.map(\.text) == ["Hallo.", "Den Hügel hinauf."] && vtt.cues[0].end == 1.5)
        // Each written as the other platform wants it, with the same cues.
        #expect(try SubtitleFile.parse(vtt.srt, format: .srt, file: "x.srt").cues == vtt.cues)
        #expect(try SubtitleFile.parse(srt.vtt, format: .vtt, file: "x.vtt").cues == srt.cues)
        #expect(SubtitleTrack.language(of: "trips/walk.pt-BR.srt", stem: "trips/walk") == "pt-BR")
        #expect(SubtitleTrack.language(of: "walk.srt", stem: "walk") == nil)
        #expect(SubtitleTrack.language(of: "walkabout.en.srt", stem: "walk") == nil)
    }

    /// A cue timed wrong is answered at its line and column, with the rule in words.
    @Test(arguments: [
        ("1\n00:00:01,000 --> 00:00:00,500\nBackwards\n", SubtitleFile.Format.srt, "ends after it starts", "2:18"),
        ("1\n00:00:01.000 --> 00:00:02,000\nDot\n", .srt, "the start '00:00:01.000'", "2:1"),
        ("1\n00:00:01,000 --> 00:00:61,000\nSixty-one\n", .srt, "the end '00:00:61,000'", "2:18"),
        ("1\n00:00:01,000 -> 00:00:02,000\nArrow\n", .srt, "timing line", "2:1"),
        ("00:01.000 --> 00:02.000\nNo signature\n", .vtt, "starts with the line `WEBVTT`", "1:1"),
        ("WEBVTT\n\n00:05.000 --> 00:06.000\nB\n\n00:01.000 --> 00:02.000\nA\n", .vtt, "in order of their start", "6:1"),
        ("WEBVTT\n\nNOTE only a note\n", .vtt, "has no cues", "1:1"),
        // Hours no clip reaches: not a time (they overflowed into a trap that crashed `run`).
        ("WEBVTT\n\n00:00:00.000 --> 2562047788015215:30:08.000\nFar\n", .vtt, "the end '2562047788015215:30:08.000'", "3:18"),
        ("1\n99999999999:00:00,000 --> 99999999999:00:01,000\nFar\n", .srt, "the start '99999999999:00:00,000'", "2:1")
    ])
    func badTimingIsAnsweredAtItsPlace(_ text: String, _ format: SubtitleFile.Format, _ said: String, _ at: String) {
        do {
            _ = try SubtitleFile.parse(text, format: format, file: "t.\(format.rawValue)")
            Issue.record("accepted: \(text)")
        } catch let e as OmniError {
            #expect(e.code == .subtitlesInvalid)
            #expect(e.message.contains(said), "\(e.message)")
            #expect(e.location?.description == "t.\(format.rawValue):\(at)", "\(e.location.map { "\($0)" } ?? "no location")")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func theSidecarListsTracksWithTheirLanguage() throws {
        let m = try Manifest.parse(
            text: "title: x\nsubtitles:\n  - walk.fr.vtt\n  - {file: subs/spoken.srt, language: es-419, name: Español}\n", file: "walk.yaml")
        #expect(m.subtitles?.map(\.language) == ["fr", "es-419"] && m.subtitles?[1].name == "Español")
        #expect(throws: OmniError.self) { try Manifest.parse(text: "subtitles: [spoken.srt]\n", file: "w.yaml") }
        #expect(throws: OmniError.self) { try Manifest.parse(text: "subtitles: [{file: a.srt, language: english}]\n", file: "w.yaml") }
    }

    /// Tracks beside the clip and one the sidecar lists reach every platform that takes a track, each with
    /// its language; the sandboxes hold each exactly once, in the form the platform takes.
    @Test func tracksReachYouTubeVimeoAndFacebookWithTheirLanguage() async throws {
        let dir = try TempDir()
        try FileManager.default.createDirectory(at: dir.file("inbox/subs"), withIntermediateDirectories: true)
        try dir.write("inbox/walk.en.srt", Self.english)
        try dir.write("inbox/walk.de.vtt", Self.german)
        try dir.write("inbox/subs/spoken.srt", Self.english.replacingOccurrences(of: "Hello there.", with: "Hola."))
        try await TestPipelines.publishOnce(
            dir, targets: "youtube:main, vimeo:main, facebook:main, x:main", clip: try Clips.make(width: 540, height: 960, seconds: 3),
            sidecar: "title: A walk\nprivacy: public\nsubtitles:\n  - {file: subs/spoken.srt, language: es, name: Español}\n"
        ) { p, deliveries in
            let state = p.sandbox!.state
            let youtube = try #require(await state.allVideos().first { $0.platform == "youtube" })
            let captions = await state.captions(of: youtube.id)
            #expect(captions.map(\.language).sorted() == ["de", "en", "es"], "\(captions)")
            #expect(captions.first { $0.language == "es" }?.name == "Español")
            #expect(captions.first { $0.language == "de" }?.text.hasPrefix("WEBVTT") == true)
            let vimeoId = try #require(deliveries.first { $0.platform == "vimeo" }?.remoteId)
            let tracks = await state.vimeoTextTracks(of: vimeoId)
            #expect(tracks.map(\.language).sorted() == ["de", "en", "es"] && tracks.allSatisfy { $0.active && $0.text.hasPrefix("WEBVTT") }, "\(tracks)")
            let reel = try #require(deliveries.first { $0.platform == "facebook" }?.remoteId)
            let fb = await state.fbCaptions(of: reel)
            #expect(fb.map(\.language).sorted() == ["de_DE", "en_US", "es_ES"] && fb.allSatisfy { $0.text.contains(" --> ") && !$0.text.hasPrefix("WEBVTT") }, "\(fb)")
            // X takes no track: nothing owed there, and nothing refused.
            let x = try #require(deliveries.first { $0.platform == "x" })
            #expect(try p.context.ledger.followUps(deliveryId: x.id!).isEmpty)
            for d in deliveries where d.platform != "x" {
                let rows = try p.context.ledger.followUps(deliveryId: d.id!)
                #expect(rows.count == 3 && rows.allSatisfy { $0.state == .made }, "\(d.target): \(rows)")
            }
            // The tracks are originals of the drop: archived with it.
            let archived = files(under: p.context.config.paths.archive)
            #expect(["/walk.en.srt", "/walk.de.vtt", "/subs/spoken.srt"].allSatisfy { name in archived.contains { $0.hasSuffix(name) } }, "\(archived)")
        }
    }

    /// A subtitle file timed wrong fails the drop before anything is posted, at the file's line and column;
    /// the originals are kept.
    @Test func aBadTrackFailsTheDropAtItsLine() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]")
        try FileManager.default.createDirectory(at: config.paths.inbox, withIntermediateDirectories: true)
        try dir.write("inbox/hike.en.srt", "1\n00:00:00,000 --> 00:00:01,000\nFine\n\n2\n00:00:02,000 --> 00:00:01,000\nBackwards\n")
        try TestPipelines.drop(try Clips.make(width: 320, height: 240, seconds: 3), as: "hike", sidecar: "title: A hike\n", into: config)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let drop = try #require(try p.context.ledger.drops().first)
            #expect(drop.state == .failed && drop.reasonCode == "subtitles_invalid", "\(drop.reasonCode ?? "") \(drop.reasonMessage ?? "")")
            #expect(drop.reasonLocation == "hike.en.srt:6:18", "\(drop.reasonLocation ?? "")")
            #expect(await p.sandbox!.state.allVideos().isEmpty)
            #expect(FileManager.default.fileExists(atPath: config.paths.failed.appendingPathComponent("\(drop.id)/hike.en.srt").path))
        }
    }
}

/// `burn_subtitles: true`: a target that takes no track gets the first one burned into the picture — the
/// rendition becomes a transcode and the plan says why — while a target that takes tracks gets the track.
@Suite struct BurnedSubtitleTests {
    @Test func aTargetWithoutTracksGetsTheSubtitlesInThePicture() async throws {
        let dir = try TempDir()
        try FileManager.default.createDirectory(at: dir.file("inbox"), withIntermediateDirectories: true)
        try dir.write("inbox/walk.en.srt", "1\n00:00:00,000 --> 00:00:02,900\nBURNED IN TEXT\n")
        let clip = try Clips.make(width: 640, height: 360, seconds: 3)
        try await TestPipelines.publishOnce(
            dir, targets: "youtube:main, x:main", clip: clip,
            sidecar: "title: A walk\nprivacy: public\nburn_subtitles: true\n"
        ) { p, deliveries in
            let x = try #require(deliveries.first { $0.platform == "x" })
            #expect(x.plan == .transcode && x.planDetail?.contains("walk.en.srt burned into the picture") == true, "\(x.planDetail ?? "")")
            #expect(try x.renditionSpec?.burnSubtitles?.hasSuffix("/subtitles/en.srt") == true)
            let youtube = try #require(deliveries.first { $0.platform == "youtube" })
            #expect(youtube.planDetail?.contains("burned") != true)
            let video = try #require(await p.sandbox!.state.allVideos().first { $0.platform == "youtube" })
            #expect(await p.sandbox!.state.captions(of: video.id).map(\.language) == ["en"])
            // The text is in X's picture: its frame differs from the same frame rendered without it.
            let posted = try #require(await p.sandbox!.state.allVideos().first { $0.platform == "x" })
            var plain = try #require(try x.renditionSpec)
            plain.burnSubtitles = nil
            let bare = dir.file("bare.mp4").path
            _ = try await Converter().convert(
                input: clip.path, output: bare, spec: plain, durationS: 3, verifyAgainst: nil, planner: Planner())
            #expect(try Self.frame(posted.path, dir, "a") != Self.frame(bare, dir, "b"))
        }
    }

    /// `burn_subtitles` per target, from one drop: TikTok's own override burns the track into its picture
    /// (its rendition alone becomes a transcode, and its plan says why), while YouTube gets the track and
    /// the clip as it was.
    @Test(.timeLimit(.minutes(4))) func aTargetsOwnBurnSubtitlesBurnsForItAlone() async throws {
        let dir = try TempDir()
        try FileManager.default.createDirectory(at: dir.file("inbox"), withIntermediateDirectories: true)
        try dir.write("inbox/walk.en.srt", "1\n00:00:00,000 --> 00:00:02,900\nBURNED FOR TIKTOK\n")
        let clip = try Clips.make(width: 640, height: 360, seconds: 3)
        try await TestPipelines.publishOnce(
            dir, targets: "youtube:main, tiktok:main", clip: clip,
            sidecar: "title: A walk\nprivacy: private\noverrides:\n  tiktok: {burn_subtitles: true}\n"
        ) { p, deliveries in
            let tiktok = try #require(deliveries.first { $0.platform == "tiktok" })
            #expect(tiktok.plan == .transcode, "\(tiktok.planDetail ?? "")")
            #expect(
                tiktok.planDetail?.contains("walk.en.srt burned into the picture for this target only (overrides.tiktok.burn_subtitles: true)") == true,
                "\(tiktok.planDetail ?? "")")
            #expect(try tiktok.renditionSpec?.burnSubtitles?.hasSuffix("/subtitles/en.srt") == true)
            let youtube = try #require(deliveries.first { $0.platform == "youtube" })
            #expect(youtube.plan == .pass && youtube.planDetail?.contains("burned") != true, "\(youtube.planDetail ?? "")")
            let state = p.sandbox!.state
            let onYouTube = try #require(await state.allVideos().first { $0.platform == "youtube" })
            #expect(await state.captions(of: onYouTube.id).map(\.language) == ["en"])
            // YouTube's video is the clip itself; TikTok's picture differs from its own rendition made without the text.
            #expect(try onYouTube.sha256 == FileHashing.sha256(path: clip.path).hex)
            #expect(try Self.frame(onYouTube.path, dir, "y") == Self.frame(clip.path, dir, "c"))
            let onTikTok = try #require(await state.allVideos().first { $0.platform == "tiktok" })
            var plain = try #require(try tiktok.renditionSpec)
            plain.burnSubtitles = nil
            let bare = dir.file("bare.mp4").path
            _ = try await Converter().convert(input: clip.path, output: bare, spec: plain, durationS: 3, verifyAgainst: nil, planner: Planner())
            #expect(try Self.frame(onTikTok.path, dir, "t") != Self.frame(bare, dir, "b"))
        }
    }

    /// A target's own `burn_subtitles: false` keeps its picture clean even when the sidecar burns for the rest.
    @Test func aTargetsOwnFalseKeepsItsPictureClean() throws {
        var m = Manifest()
        m.burnSubtitles = true
        let track = ValidateStage.CheckedTrack(language: "en", name: nil, format: .srt, copy: "/w/en.srt", source: "walk.en.srt")
        #expect(ValidateStage.burnsSubtitles(m, platform: "x", options: [:], tracks: [track], profile: "x") == "burn_subtitles: x takes no subtitle track")
        #expect(ValidateStage.burnsSubtitles(m, platform: "x", options: ["burn_subtitles": "false"], tracks: [track], profile: "x") == nil)
        // A platform that takes tracks gets the track, unless its own override asks for the picture.
        #expect(ValidateStage.burnsSubtitles(m, platform: "youtube", options: [:], tracks: [track], profile: "youtube") == nil)
        #expect(ValidateStage.burnsSubtitles(m, platform: "youtube", options: ["burn_subtitles": "true"], tracks: [track], profile: "youtube") != nil)
        #expect(ValidateStage.burnsSubtitles(m, platform: "x", options: [:], tracks: [], profile: "x") == nil)
    }

    @Test func theFilterPathIsEscapedForTheFiltergraph() {
        #expect(FFmpegArguments.filterEscaped("/w/a:b,c'd.srt") == #"/w/a\\:b\,c\\\'d.srt"#)
    }

    static func frame(_ video: String, _ dir: TempDir, _ name: String) throws -> Data {
        let out = dir.file("\(name).png").path
        try Clips.run("ffmpeg", ["-nostdin", "-loglevel", "error", "-y", "-ss", "1", "-i", video, "-frames:v", "1", out])
        return try Data(contentsOf: URL(fileURLWithPath: out))
    }
}
