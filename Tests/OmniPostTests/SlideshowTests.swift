import Foundation
import OmniPostCore
import OmniPostMedia
import OmniPostPipeline
import Testing

@Suite(.serialized) struct SlideshowTests {
    @Test func threeImageSlideshowIsRenderedPerTargetAndPublished() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url)
        let inbox = config.paths.inbox
        try FileManager.default.createDirectory(at: inbox.appendingPathComponent("trip"), withIntermediateDirectories: true)
        for (i, src) in ["testsrc2=size=1600x1200", "smptebars=size=800x1200", "mandelbrot=size=1024x768"].enumerated() {
            try Clips.run("ffmpeg", ["-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", src, "-frames:v", "1", inbox.appendingPathComponent("trip/\(i).png").path])
        }
        try Clips.run(
            "ffmpeg",
            [
                "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=330:duration=9", "-c:a", "aac",
                inbox.appendingPathComponent("trip/song.m4a").path
            ])
        // The first image shown again at the end: one file, taken once, shown twice.
        try dir.write(
            "inbox/trip.yaml",
            """
            title: "Trip ({duration} s)"
            images: [trip/0.png, {file: trip/1.png, seconds: 2}, trip/2.png, {file: trip/0.png, seconds: 1.5}]
            image_seconds: 2.5
            crossfade: 0.5
            audio: trip/song.m4a
            """)
        let lines = LinesBox()
        let p = try await TestPipelines.runOnce(config, lines: lines)
        try await stopping(p) {
            let drop = try #require(try p.context.ledger.drops().first)
            let why = try p.context.ledger.deliveries(forDrop: drop.id).map { "\($0.target): \($0.errorCode ?? "") \($0.errorMessage ?? "")" }
            #expect(drop.state == .archived, "\(drop.reasonCode ?? "") \(drop.reasonMessage ?? "") \(why)")
            let videos = await p.sandbox!.state.allVideos()
            #expect(videos.count == 2)
            #expect(videos.allSatisfy { $0.title == "Trip (7 s)" }, "\(videos.map(\.title))")
            for v in videos {
                let info = try await Prober().probe(path: v.path, displayName: "sent.mp4")
                // 2.5 + 2 + 2.5 + 1.5 seconds, three 0.5 s crossfades.
                #expect(abs(info.durationS - 7) < 0.3)
                #expect(info.audio?.codec == "aac")
                #expect([1080, 1920].contains(info.video?.width ?? 0))
            }
            #expect(lines.all.contains { $0.contains("slideshow for") })
            // Every image and the soundtrack are archived with the sidecar.
            let archived = files(under: config.paths.archive)
            for f in ["trip/0.png", "trip/1.png", "trip/2.png", "trip/song.m4a", "trip.yaml"] {
                #expect(archived.contains { $0.hasSuffix("/" + f) }, "\(f) not archived")
            }
        }
    }

    @Test func badSlideshowsSayWhy() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]", grace: "1s")
        try FileManager.default.createDirectory(at: config.paths.inbox, withIntermediateDirectories: true)
        // Each drop has its own good image: a failed drop moves its originals (images included) to
        // failed/, so an image shared between drops that fail at different moments would be gone — or
        // going — under another one's validation, and that one's reason would depend on the order.
        for name in ["a1", "a2", "a3", "a4"] {
            try Clips.run(
                "ffmpeg",
                [
                    "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=640x480", "-frames:v", "1",
                    config.paths.inbox.appendingPathComponent("\(name).png").path
                ])
        }
        try dir.write("inbox/fake.png", "not an image")
        try dir.write("inbox/one.yaml", "title: one\nimages: [a1.png]\n")
        try dir.write("inbox/faked.yaml", "title: faked\nimages: [a2.png, fake.png]\n")
        try dir.write("inbox/long.yaml", "title: long\nimages: [{file: a3.png, seconds: 11}, a3.png]\n")
        try dir.write("inbox/missing.yaml", "title: missing\nimages: [a4.png, nowhere.png]\n")
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let drops = try p.context.ledger.drops()
            func reason(_ stem: String) -> (String?, String?) { drops.first { $0.stem == stem }.map { ($0.reasonCode, $0.reasonLocation) } ?? (nil, nil) }
            #expect(reason("one").0 == "invalid_value" && reason("one").1 == "one.yaml:2:9")
            #expect(reason("faked").0 == "not_an_image")
            #expect(reason("long").0 == "invalid_value" && reason("long").1?.hasPrefix("long.yaml:2:") == true)
            #expect(reason("missing").0 == "missing_file")
            #expect(drops.allSatisfy { $0.state == .failed })
        }
    }
}
