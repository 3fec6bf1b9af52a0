import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPipeline
import Testing
#if canImport(Glibc)
    import Glibc
#endif

/// Issue 21 (items 7, 8): files that change after they were taken — a clip re-exported over itself, a
/// sidecar saved again in place. Real writers on their own threads, the whole pipeline, the sandbox.
@Suite(.serialized) struct IngestRewriteTests {
    /// Truncates `url` and writes `data` into it in three parts, pausing between them: an editor
    /// re-exporting over the same name (same inode, O_TRUNC).
    static func rewriteInPlace(_ url: URL, _ data: Data, pause: Double, afterFirstPart: (() throws -> Void)? = nil) throws {
        let fd = open(url.path, O_WRONLY | O_TRUNC)
        guard fd >= 0 else { throw OmniError(.internalError, "cannot open \(url.path)") }
        defer { close(fd) }
        let parts = [data.prefix(data.count / 3), data.dropFirst(data.count / 3).prefix(data.count / 3), data.dropFirst(2 * (data.count / 3))]
        for (i, part) in parts.enumerated() {
            if i > 0 { Thread.sleep(forTimeInterval: pause) }
            _ = part.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if i == 0 { try afterFirstPart?() }
        }
    }

    /// Item 7. A clip re-exported (truncated and rewritten) shortly after the first export was taken,
    /// with the first drop received, validated or converted: that drop is withdrawn as `source_changed`
    /// (nothing goes to failed/, no failure report) and the finished re-export is published once.
    @Test(.timeLimit(.minutes(6)), arguments: [DropState.received, .validated, .converted])
    func aReExportOverATakenClipIsWithdrawnAndTheNewExportPublished(stage: DropState) async throws {
        let dir = try TempDir()
        // To catch the first drop while it is validated, its one target transcodes (to 9:16): seconds of ffmpeg.
        let transcoded = stage == .validated
        let targets = transcoded ? "targets:\n  - {name: shorts:main, platform: youtube, profile: youtube_shorts, account: main}" : "targets: [youtube:main]"
        var c = try TestPipelines.config(root: dir.url, targets: targets, settle: "300ms", grace: "2s")
        c.upload.chunkSize = 262_144
        let first = try Data(contentsOf: try Clips.make(width: 640, height: 360, seconds: 2, extra: ["-b:v", "2M"]))
        let second = try Data(contentsOf: try Clips.make(width: 640, height: 360, seconds: 2.5, extra: ["-b:v", "2M"]))
        try FileManager.default.createDirectory(at: c.paths.inbox, withIntermediateDirectories: true)
        let clipURL = c.paths.inbox.appendingPathComponent("r.mp4")
        try first.write(to: clipURL)
        try dir.write("inbox/r.yaml", "title: re-exported\n")
        let p = try await TestPipelines.runOnce(c, timeout: .seconds(240)) { p in
            guard let s = p.sandbox else { return }
            // Uploads held back, so the first drop is still in flight when the re-export starts.
            await s.state.setFaults(.init(youtubePutDelayMs: 400))
            let ledger = p.context.ledger
            Task.detached {
                for _ in 0..<1000 {
                    if let d = try? ledger.drops().first, d.state == stage {
                        try? await offPool { try Self.rewriteInPlace(clipURL, second, pause: 0.6) }
                        await s.state.setFaults(.init())
                        return
                    }
                    try? await Task.sleep(for: .milliseconds(5))
                }
                await s.state.setFaults(.init())
            }
        }
        try await stopping(p) {
            let drops = try p.context.ledger.drops()
            let summary = drops.map { "\($0.stem) \($0.state) \($0.reasonCode ?? "") \($0.reasonMessage ?? "")" }
            #expect(drops.filter { $0.state == .failed }.isEmpty, "\(summary)")
            let published = drops.filter { $0.state == .archived }
            #expect(published.count == 1 && published.first?.clipSha256 == FileHashing.sha256(data: second), "\(summary)")
            #expect(published.first?.sidecarPath == "r.yaml")
            // The first export's drop was withdrawn (unless the re-export began before it was ever taken).
            #expect(drops.filter { $0.state == .withdrawn }.allSatisfy { $0.reasonCode == "source_changed" }, "\(summary)")
            let videos = await p.sandbox!.state.allVideos()
            // What was posted is the re-export (itself, or its one rendition).
            #expect(transcoded ? videos.count == 1 : videos.map(\.sha256) == [FileHashing.sha256(data: second)])
            #expect(drops.contains { $0.state == .withdrawn }, "the first export was never caught in flight: \(summary)")
            #expect(files(under: c.paths.failed).isEmpty && files(under: c.paths.outboxFailed).isEmpty)
            let archived = files(under: c.paths.archive).filter { $0.hasSuffix("r.mp4") }
            #expect(archived.count == 1)
            if let a = archived.first { #expect(try Data(contentsOf: c.paths.archive.appendingPathComponent(a)) == second) }
        }
    }

    /// Item 8. A sidecar saved again in place (same inode) while its clip arrives: the drop is made with
    /// its newest version only — the stale record never pairs, no second drop, no failure report — and the
    /// ledger's row for the sidecar is the version that was used.
    @Test(.timeLimit(.minutes(6)), arguments: ["inotify", "poll"])
    func aSidecarRewrittenInPlaceIsUsedInItsNewestVersionOnly(mode: String) async throws {
        let dir = try TempDir()
        // The sidecar's writer pauses less than the settle (it is a writer a poll can follow); the clip
        // completes while the sidecar is still settling, its first version's row still waiting.
        var c = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]", settle: "600ms", grace: "2s")
        if mode == "poll" { c.watch.mode = .poll; c.watch.pollInterval = .milliseconds(100) }
        let inbox = c.paths.inbox
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
        let sidecar = inbox.appendingPathComponent("s.yaml")
        try Data("title: the old title\nprivacy: private\n".utf8).write(to: sidecar)
        let newest = Data("title: the newest title, saved again in place\nprivacy: unlisted\n".utf8)
        let clip = try Data(contentsOf: try Clips.make(width: 320, height: 240, seconds: 1))
        let p = try await TestPipelines.runOnce(c, timeout: .seconds(240)) { p in
            let ledger = p.context.ledger
            Task.detached {
                // Once the first version is recorded, the clip comes in while the sidecar is saved again.
                for _ in 0..<2000 {
                    if (try? ledger.waitingFiles().contains { $0.path == "s.yaml" }) == true { break }
                    try? await Task.sleep(for: .milliseconds(5))
                }
                try? await offPool {
                    try Self.rewriteInPlace(sidecar, newest, pause: 0.25) { try clip.write(to: inbox.appendingPathComponent("s.mp4")) }
                }
            }
        }
        try await stopping(p) {
            let drops = try p.context.ledger.drops()
            let summary = drops.map { "\($0.stem) \($0.state) \($0.reasonCode ?? "") \($0.reasonMessage ?? "")" }
            #expect(drops.filter { $0.state == .archived }.count == 1, "\(summary)")
            #expect(drops.allSatisfy { $0.state == .archived || $0.state == .withdrawn }, "\(summary)")
            let videos = await p.sandbox!.state.allVideos()
            #expect(
                videos.count == 1 && videos.first?.title == "the newest title, saved again in place" && videos.first?.privacy == "unlisted",
                "\(videos.map { "\($0.title) \($0.privacy)" })")
            #expect(files(under: c.paths.failed).isEmpty && files(under: c.paths.outboxFailed).isEmpty)
            #expect(try p.context.ledger.waitingFiles().isEmpty)
            // The ledger records the version used: the archived drop's sidecar row is the newest file.
            let published = try #require(drops.first { $0.state == .archived })
            let row = try #require(try p.context.ledger.files(ofDrop: published.id).first { $0.path == "s.yaml" })
            #expect(row.size == Int64(newest.count))
        }
    }
}
