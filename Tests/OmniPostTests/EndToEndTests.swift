import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostMedia
@testable import OmniPostPipeline
import OmniPostPlatforms
import OmniPostSandbox
import Testing

/// The whole path with real parts: inotify, ffprobe/ffmpeg, a SQLite file, HTTP on loopback.
@Suite(.serialized) struct EndToEndTests {
    @Test func goodDropIsPublishedArchivedAndReported() async throws {
        let dir = try TempDir()
        let clip = try Clips.make(width: 540, height: 960, seconds: 2)
        let config = try TestPipelines.config(root: dir.url)
        try Clips.copy(clip, to: config.paths.inbox.appendingPathComponent("moment.mp4"))
        try dir.write(
            "inbox/moment.yaml",
            """
            version: 1
            title: "Moment {clip_id}"
            description: "from {filename}"
            tags: [a, b]
            privacy: unlisted
            fields: {clip_id: "42"}
            """)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {

            let original = try FileHashing.sha256(path: clip.path).hex
            let results = try FileManager.default.contentsOfDirectory(atPath: config.paths.outbox.path).filter { $0.hasSuffix(".result.json") }
            #expect(results.count == 1)
            let report = try readJSON(config.paths.outbox.appendingPathComponent(results[0]))
            #expect(report["state"] as? String == "published")
            #expect(report["sha256"] as? String == original)
            let targets = try #require(report["targets"] as? [[String: Any]])
            #expect(targets.count == 2)
            let videos = await p.sandbox!.state.allVideos()
            #expect(videos.count == 2)
            for t in targets {
                #expect(t["state"] as? String == "published")
                #expect(t["plan"] as? String == "pass")
                let sent = try #require(t["sha256"] as? String)
                #expect(sent == original)
                // The sandbox holds exactly the bytes that were sent.
                let v = try #require(videos.first { $0.id == t["remote_id"] as? String })
                #expect(v.sha256 == sent)
                #expect(v.title == "Moment 42" && v.description == "from moment.mp4" && v.privacy == "unlisted" && v.tags == ["a", "b"])
                #expect((t["url"] as? String)?.contains(v.id) == true)
            }
            // Originals archived byte-identical; inbox and work/ left empty.
            let id = try #require(report["drop_id"] as? String)
            let archived = files(under: config.paths.archive)
            #expect(archived.contains { $0.hasSuffix("\(id)/moment.mp4") } && archived.contains { $0.hasSuffix("\(id)/moment.yaml") })
            let archivedClip = try #require(archived.first { $0.hasSuffix("moment.mp4") })
            #expect(try FileHashing.sha256(path: config.paths.archive.appendingPathComponent(archivedClip).path).hex == original)
            #expect(files(under: config.paths.inbox).isEmpty)
            #expect(files(under: config.paths.work).isEmpty)
            // Every transition is in the ledger.
            let events = try p.context.ledger.events(forDrop: id).map { "\($0.fromState ?? "-")>\($0.toState)" }
            #expect(events.contains("received>validated") && events.contains("converted>archived"))
        }
    }

    @Test func landscapeClipIsTranscodedForTheVerticalTarget() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url)
        let clip = try Clips.make(width: 1280, height: 720, seconds: 2)
        try Clips.copy(clip, to: config.paths.inbox.appendingPathComponent("wide.mp4"))
        try dir.write("inbox/wide.json", #"{"title": "Wide", "privacy": "private"}"#)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {

            let deliveries = try p.context.ledger.allDeliveries()
            #expect(deliveries.map(\.state) == [.published, .published])
            let shorts = try #require(deliveries.first { $0.target == "shorts:main" })
            #expect(shorts.plan == .transcode)
            let video = try #require(await p.sandbox!.state.allVideos().first { $0.id == shorts.remoteId })
            #expect(video.sha256 == shorts.renditionSha256)
            // The fast digest of each file sent was recorded beside its sha256 in the same read (v22) — the
            // rendition's by the convert stage, the pass-through's being the clip's from validation — and
            // is what the upload job checks the file against.
            #expect(shorts.renditionXxh3 == (try PinnedDigestTests.xxhsum(video.path)))
            let drop = try #require(try p.context.ledger.drop(shorts.dropId))
            let youtube = try #require(deliveries.first { $0.target == "youtube:main" })
            #expect(drop.clipXxh3 != nil && youtube.renditionXxh3 == drop.clipXxh3)
            #expect(youtube.renditionXxh3 == (try PinnedDigestTests.xxhsum(clip.path)))
            for d in [shorts, youtube] {
                let job = try DeliveryJob.make(d, ledger: p.context.ledger, inbox: config.paths.inbox)
                #expect(job.changeCheck == FileDigest(.xxh3_128, try #require(d.renditionXxh3)) && job.expectedSha256 == d.renditionSha256)
            }
            let info = try await Prober().probe(path: video.path, displayName: "sent.mp4")
            #expect(info.video?.width == 1080 && info.video?.height == 1920)
            #expect(info.video?.codec == "h264" && info.video?.pixelFormat == "yuv420p")
            #expect(youtube.plan == .pass)
            // ffmpeg's time for the one transcode is on the drop's timeline and in /metrics.
            let rendered = try p.context.ledger.events(forDrop: shorts.dropId).filter { $0.stage == "convert" && $0.toState == "rendered" }
            #expect(rendered.count == 1)
            guard case .rendered(let seconds, let work)? = rendered.first?.data else { Issue.record("no rendered data: \(rendered)"); return }
            #expect(seconds > 0 && work == "transcode")
            #expect(rendered.first?.detail == String(format: "ffmpeg took %.3f s (transcode)", seconds))
            let metrics = try MetricsExport.text(config: p.context.config, ledger: p.context.ledger, profiles: p.context.profiles)
            #expect(metrics.contains(#"omnipost_ffmpeg_seconds_count{kind="transcode"} 1"#), "\(metrics)")
        }
    }

    @Test func brokenSidecarFailsWithReportAndKeepsOriginals() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url)
        let clip = try Clips.make(width: 540, height: 960, seconds: 2)
        try Clips.copy(clip, to: config.paths.inbox.appendingPathComponent("bad.mp4"))
        try dir.write("inbox/bad.yaml", "version: 1\ntitle: ok\nprivacy: [public\n")
        try Clips.copy(clip, to: config.paths.inbox.appendingPathComponent("typo.mp4"))
        try dir.write("inbox/typo.yaml", "version: 1\ntitel: hello\n")
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {

            #expect(await p.sandbox!.state.allVideos().isEmpty)
            let reports = try FileManager.default.contentsOfDirectory(atPath: config.paths.outboxFailed.path).sorted()
            #expect(reports.count == 2)
            let bad = try readJSON(config.paths.outboxFailed.appendingPathComponent(try #require(reports.first { $0.hasPrefix("bad-") })))
            let badReason = try #require(bad["reason"] as? [String: Any])
            #expect(badReason["code"] as? String == "manifest_syntax")
            #expect((badReason["location"] as? String)?.hasPrefix("bad.yaml:") == true)
            let typo = try readJSON(config.paths.outboxFailed.appendingPathComponent(try #require(reports.first { $0.hasPrefix("typo-") })))
            let typoReason = try #require(typo["reason"] as? [String: Any])
            #expect(typoReason["code"] as? String == "unknown_key")
            #expect(typoReason["location"] as? String == "typo.yaml:2:1")
            #expect((typoReason["message"] as? String)?.contains("did you mean 'title'") == true)
            // Originals quarantined byte-identical with a copy of the report beside them.
            let quarantined = files(under: config.paths.failed)
            #expect(quarantined.filter { $0.hasSuffix(".mp4") }.count == 2)
            #expect(quarantined.filter { $0.hasSuffix(".failure.json") }.count == 2)
            let q = try #require(quarantined.first { $0.hasSuffix("bad.mp4") })
            #expect(try FileHashing.sha256(path: config.paths.failed.appendingPathComponent(q).path).hex == FileHashing.sha256(path: clip.path).hex)
            #expect(files(under: config.paths.inbox).isEmpty)
        }
    }

    @Test func clipWithoutSidecarFailsAfterGraceAndSidecarWithoutClipToo() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, grace: "500ms")
        try Clips.copy(try Clips.make(width: 540, height: 960, seconds: 2), to: config.paths.inbox.appendingPathComponent("lonely.mp4"))
        try dir.write("inbox/orphan.yaml", "title: where is my clip\n")
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let drops = try p.context.ledger.drops()
            #expect(Set(drops.compactMap(\.reasonCode)) == ["missing_sidecar", "missing_clip"])
            #expect(drops.allSatisfy { $0.state == .failed })
        }
    }

    @Test func theSameClipDroppedTwiceIsADuplicateNotASecondPost() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url)
        let clip = try Clips.make(width: 540, height: 960, seconds: 2)
        try Clips.copy(clip, to: config.paths.inbox.appendingPathComponent("first.mp4"))
        try dir.write("inbox/first.yaml", "title: first\n")
        let p1 = try await TestPipelines.runOnce(config)
        await p1.close()
        try Clips.copy(clip, to: config.paths.inbox.appendingPathComponent("again.mp4"))
        try dir.write("inbox/again.yaml", "title: again\n")
        let p2 = try await TestPipelines.runOnce(config)
        try await stopping(p2) {
            let again = try #require(try p2.context.ledger.drops().first { $0.stem == "again" })
            #expect(again.state == .failed)
            #expect(again.reasonCode == "duplicate")
            let first = try #require(try p2.context.ledger.drops().first { $0.stem == "first" })
            #expect(again.duplicateOf == first.id)
            let report = try readJSON(config.paths.outboxFailed.appendingPathComponent("\(again.id).failure.json"))
            #expect(report["duplicate_of"] as? String == first.id)
        }
    }
}
