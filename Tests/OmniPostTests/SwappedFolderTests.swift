import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// Issue 22 item 2, performed for real: a slideshow drop (its sidecar, two images, a soundtrack and a
/// cover in `inbox/show/`) is taken; then, at the moment that matters — before it is converted, or
/// while it waits in `converted` — `inbox/show` is moved aside and replaced by a symbolic link to an
/// outside folder holding files of the same names, plus a stand-in `secret.key` and `ledger.sqlite`.
/// Driven stage by stage, so the swap happens exactly between two stages.
@Suite(.serialized) struct SwappedFolderTests {
    static let names = ["show.yaml", "0.png", "1.png", "song.m4a", "cover.png"]

    /// The drop's files in `inbox/show`, recorded by the watcher's rules, paired and validated.
    private func validatedShow(_ dir: TempDir) async throws -> (Pipeline, DropRecord) {
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]", grace: "60s")
        let p = try await Pipeline.open(config: config, logger: TestPipelines.logger, embedding: TestPipelines.embedding)
        let ctx = p.context
        let show = config.paths.inbox.appendingPathComponent("show")
        try FileManager.default.createDirectory(at: show, withIntermediateDirectories: true)
        for (name, src) in [("0.png", "testsrc2=size=640x480"), ("1.png", "smptebars=size=640x480"), ("cover.png", "mandelbrot=size=320x240")] {
            try Clips.run("ffmpeg", ["-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", src, "-frames:v", "1", show.appendingPathComponent(name).path])
        }
        try Clips.run(
            "ffmpeg",
            [
                "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=330:duration=4", "-c:a", "aac",
                show.appendingPathComponent("song.m4a").path
            ])
        try dir.write("inbox/show/show.yaml", "title: show\nimages: [0.png, 1.png]\nimage_seconds: 2\naudio: song.m4a\ncover: {file: cover.png}\n")
        for name in Self.names {
            let a = try FileManager.default.attributesOfItem(atPath: show.appendingPathComponent(name).path)
            _ = try ctx.ledger.recordCompleteFile(
                path: "show/" + name, size: (a[.size] as! NSNumber).int64Value,
                mtime: (a[.modificationDate] as! Date).timeIntervalSince1970,
                inode: (a[.systemFileNumber] as! NSNumber).int64Value, role: name == "show.yaml" ? .sidecar : .other)
        }
        #expect(try await AssembleStage(ctx: ctx).step())
        #expect(try await ValidateStage(ctx: ctx).step())
        let drop = try #require(try ctx.ledger.drops().first)
        #expect(drop.state == .validated, "\(drop.state) \(drop.reasonCode ?? "") \(drop.reasonMessage ?? "")")
        return (p, drop)
    }

    /// The outside folder: every name the drop uses (other bytes), and what must never be touched.
    private func outsideFolder(_ dir: TempDir) throws -> [String: Data] {
        let outside = dir.file("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        for name in ["0.png", "1.png", "cover.png"] {
            try Clips.run(
                "ffmpeg",
                [
                    "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=red:size=640x480", "-frames:v", "1",
                    outside.appendingPathComponent(name).path
                ])
        }
        try Clips.run(
            "ffmpeg",
            [
                "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=880:duration=4", "-c:a", "aac",
                outside.appendingPathComponent("song.m4a").path
            ])
        try dir.write("outside/show.yaml", "title: OUTSIDE\nimages: [0.png, 1.png]\n")
        try dir.write("outside/secret.key", "TOP-SECRET-KEY\n")
        try dir.write("outside/ledger.sqlite", "SQLite format 3 stand-in\n")
        var contents: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: outside.path) {
            contents[name] = try Data(contentsOf: outside.appendingPathComponent(name))
        }
        return contents
    }

    /// `inbox/show` moved aside (still in the inbox) and replaced by a link to the outside folder.
    private func swap(_ dir: TempDir, _ config: PipelineConfig) throws {
        let show = config.paths.inbox.appendingPathComponent("show")
        try FileManager.default.moveItem(at: show, to: config.paths.inbox.appendingPathComponent("show-aside"))
        try FileManager.default.createSymbolicLink(atPath: show.path, withDestinationPath: dir.file("outside").path)
    }

    /// Every regular file under `root` (not following links), by inode.
    private func inodes(under root: URL) -> Set<UInt64> {
        Set(
            files(under: root).compactMap { rel -> UInt64? in
                var st = stat()
                guard lstat(root.appendingPathComponent(rel).path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
                return UInt64(st.st_ino)
            })
    }

    private func expectOutsideUntouched(_ dir: TempDir, _ before: [String: Data]) throws {
        for (name, data) in before {
            let now = try? Data(contentsOf: dir.file("outside/\(name)"))
            #expect(now == data, "outside/\(name) was moved or changed")
        }
    }

    @Test func convertReadsNoSlideshowImageSoundtrackOrCoverThroughASwappedFolder() async throws {
        let dir = try TempDir()
        let (p, drop) = try await validatedShow(dir)
        try await stopping(p) {
            let ctx = p.context
            let outside = try outsideFolder(dir)
            try swap(dir, ctx.config)
            let outsideInodes = inodes(under: dir.file("outside"))

            #expect(try await ConvertStage(ctx: ctx).step())

            let after = try #require(try ctx.ledger.drops().first { $0.id == drop.id })
            // Withdrawn, not converted from the outside images: nothing of it goes out.
            #expect(after.state == .withdrawn && after.reasonCode == "source_changed", "\(after.state) \(after.reasonCode ?? "")")
            #expect(after.reasonMessage?.contains("show/") == true && after.reasonMessage?.contains("link") == true, "\(after.reasonMessage ?? "")")
            #expect(try ctx.ledger.deliveries(forDrop: drop.id).allSatisfy { $0.renditionPath == nil })
            // No rendition was rendered, and nothing in work/ is (a link to) an outside file.
            let work = ctx.paths.work
            #expect(!files(under: work).contains { $0.hasSuffix(".mp4") })
            #expect(inodes(under: work).isDisjoint(with: outsideInodes))
            try expectOutsideUntouched(dir, outside)
            // The drop's own originals are where they were moved aside, untouched.
            for name in Self.names {
                #expect(FileManager.default.fileExists(atPath: ctx.paths.inbox.appendingPathComponent("show-aside/\(name)").path))
            }
        }
    }

    @Test func convertReadsNoSlideshowFileFromAFolderReplacedByCopies() async throws {
        let dir = try TempDir()
        let (p, drop) = try await validatedShow(dir)
        try await stopping(p) {
            let ctx = p.context
            // A real folder this time, inside the inbox, with files of the same names and other bytes.
            let show = ctx.paths.inbox.appendingPathComponent("show")
            try FileManager.default.moveItem(at: show, to: ctx.paths.inbox.appendingPathComponent("show-aside"))
            _ = try outsideFolder(dir)
            try FileManager.default.copyItem(at: dir.file("outside"), to: show)
            let copies = inodes(under: show)

            #expect(try await ConvertStage(ctx: ctx).step())

            let after = try #require(try ctx.ledger.drops().first { $0.id == drop.id })
            #expect(after.state == .withdrawn && after.reasonCode == "source_changed", "\(after.state) \(after.reasonCode ?? "")")
            #expect(after.reasonMessage?.contains("replaced by another file") == true, "\(after.reasonMessage ?? "")")
            #expect(!files(under: ctx.paths.work).contains { $0.hasSuffix(".mp4") })
            #expect(inodes(under: ctx.paths.work).isDisjoint(with: copies))
        }
    }

    @Test func archiveMovesNothingFromASwappedFolderAndSaysWhichOriginalsWereNotFiled() async throws {
        let dir = try TempDir()
        let (p, drop) = try await validatedShow(dir)
        try await stopping(p) {
            let ctx = p.context
            // Converted from the real folder (its images and cover pinned into work/)…
            #expect(try await ConvertStage(ctx: ctx).step())
            let converted = try #require(try ctx.ledger.drops().first { $0.id == drop.id })
            #expect(converted.state == .converted, "\(converted.state) \(converted.reasonMessage ?? "")")
            let deliveries = try ctx.ledger.deliveries(forDrop: drop.id)
            #expect(!deliveries.isEmpty && deliveries.allSatisfy { $0.state == .ready }, "\(deliveries.map { "\($0.state) \($0.errorMessage ?? "")" })")
            // …then, while it waits in `converted`, its folder is swapped and its post goes out: once it is
            // public the drop can no longer be withdrawn, so the archive files whatever it finds.
            let outside = try outsideFolder(dir)
            try swap(dir, ctx.config)
            for d in deliveries {
                try ctx.ledger.transitionDelivery(d.id!, from: .ready, to: .uploading, stage: "upload")
                try ctx.ledger.transitionDelivery(d.id!, from: .uploading, to: .published, stage: "upload", detail: "posted") { x in
                    x.remoteUrl = "https://www.youtube.com/watch?v=swapped"
                }
            }

            #expect(try await ArchiveStage(ctx: ctx).step())

            try expectOutsideUntouched(dir, outside)
            // Nothing from outside reached archive/ or failed/: no such name, no such bytes.
            for root in [ctx.paths.archive, ctx.paths.failed] {
                for rel in files(under: root) {
                    #expect(!rel.hasSuffix("secret.key") && !rel.hasSuffix("ledger.sqlite"), "\(rel) was filed")
                    let data = try? Data(contentsOf: root.appendingPathComponent(rel))
                    #expect(!outside.values.contains { $0 == data }, "\(rel) holds an outside file's bytes")
                }
            }
            // The drop's own originals were not where they were taken: left alone where they are now, and
            // the ledger and the report say which were not filed, and why.
            for name in Self.names {
                #expect(FileManager.default.fileExists(atPath: ctx.paths.inbox.appendingPathComponent("show-aside/\(name)").path))
            }
            let finished = try #require(try ctx.ledger.drops().first { $0.id == drop.id })
            #expect([.archived, .failed].contains(finished.state))
            let notes = try ctx.ledger.events(forDrop: drop.id).filter { $0.toState == "not_filed" }.compactMap(\.detail)
            for name in Self.names {
                #expect(notes.contains { $0.hasPrefix("show/\(name) was not filed") && $0.contains("link") }, "\(name): \(notes)")
            }
            let report = try readJSON(ctx.paths.outbox.appendingPathComponent("\(drop.id).result.json"))
            let listed = (report["not_filed"] as? [String]) ?? []
            #expect(Set(Self.names.map { "show/" + $0 }).isSubset(of: Set(listed.compactMap { $0.split(separator: ":").first.map(String.init) })), "\(report)")
        }
    }

    @Test func archiveFilesTheOriginalsTakenFromARealFolder() async throws {
        let dir = try TempDir()
        let (p, drop) = try await validatedShow(dir)
        try await stopping(p) {
            let ctx = p.context
            #expect(try await ConvertStage(ctx: ctx).step())
            for d in try ctx.ledger.deliveries(forDrop: drop.id) { try ctx.ledger.cancelDelivery(d.id!, by: "test") }
            // One image hard-linked elsewhere too: it is archived as a copy, the other name keeps its file.
            let shared = dir.file("elsewhere.png")
            try FileManager.default.linkItem(at: ctx.paths.inbox.appendingPathComponent("show/1.png"), to: shared)
            let sharedBytes = try Data(contentsOf: shared)

            #expect(try await ArchiveStage(ctx: ctx).step())

            // Every delivery cancelled, nothing published: filed to failed/<drop> as cancelled (CancelledDropTests).
            let archived = files(under: ctx.paths.failed)
            for name in Self.names {
                #expect(archived.contains { $0.hasSuffix("/show/\(name)") }, "\(name) not archived: \(archived)")
                #expect(!FileManager.default.fileExists(atPath: ctx.paths.inbox.appendingPathComponent("show/\(name)").path))
            }
            #expect(try Data(contentsOf: shared) == sharedBytes)
            let copy = try #require(archived.first { $0.hasSuffix("/show/1.png") })
            var a = stat(), b = stat()
            #expect(lstat(shared.path, &a) == 0 && lstat(ctx.paths.failed.appendingPathComponent(copy).path, &b) == 0)
            #expect(a.st_ino != b.st_ino && a.st_nlink == 1)
            let report = try readJSON(ctx.paths.outboxFailed.appendingPathComponent("\(drop.id).failure.json"))
            #expect(report["state"] as? String == "cancelled")
            #expect(report["not_filed"] == nil)
        }
    }
}
