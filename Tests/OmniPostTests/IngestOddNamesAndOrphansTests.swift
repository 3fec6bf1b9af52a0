import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostIngest
@testable import OmniPostMedia
import OmniPostPipeline
import Testing

/// Issue 9.19 and 9.8: names that are not UTF-8 are taken (never silently ignored), ffmpeg runs left
/// by a killed daemon are killed at start, and clips that need no transcode overtake one that does.
@Suite(.serialized) struct IngestOddNamesAndOrphansTests {
    /// Writes `bytes` to a file whose name is raw bytes (not necessarily UTF-8).
    static func writeRaw(dir: String, name: [UInt8], contents: Data) throws {
        var path = Array(dir.utf8) + [UInt8(ascii: "/")] + name
        path.append(0)
        let fd = path.withUnsafeBufferPointer { p in p.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY | O_TRUNC, 0o644) } }
        #expect(fd >= 0)
        _ = contents.withUnsafeBytes { write(fd, $0.baseAddress, contents.count) }
        close(fd)
    }

    @Test func latin1NamesAreRenamedAndPublished() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]")
        try FileManager.default.createDirectory(at: config.paths.inbox.appendingPathComponent("old smb"), withIntermediateDirectories: true)
        let clip = try Data(contentsOf: try Clips.make(width: 320, height: 240, seconds: 1))
        // `café.mp4` as an old SMB client writes it: Latin-1, one byte 0xE9. Its sidecar is UTF-8.
        try Self.writeRaw(dir: config.paths.inbox.path, name: Array("caf".utf8) + [0xE9] + Array(".mp4".utf8), contents: clip)
        try dir.write("inbox/café.yaml", "title: accented\n")
        // In a subfolder, with a name that is also taken already in its Latin-1 reading.
        try Self.writeRaw(dir: config.paths.inbox.appendingPathComponent("old smb").path, name: Array("na".utf8) + [0xEF] + Array("ve.mp4".utf8), contents: clip)
        try dir.write("inbox/old smb/naïve.mp4", "")
        let lines = LinesBox()
        let p = try await TestPipelines.runOnce(config, lines: lines)
        try await stopping(p) {
            let drops = try p.context.ledger.drops()
            let cafe = try #require(drops.first { $0.clipPath == "café.mp4" })
            #expect(cafe.sidecarPath == "café.yaml" && cafe.state == .archived)
            #expect(drops.contains { $0.clipPath == "old smb/naïve (2).mp4" })
            #expect(lines.all.contains { $0.contains("renamed caf\\xE9.mp4 to café.mp4") })
            let notes = try p.context.ledger.events(stage: "watch").filter { $0.toState == "renamed" }.compactMap(\.detail)
            #expect(notes.contains { $0.contains("old smb/na\\xEFve.mp4 → old smb/naïve (2).mp4") })
            #expect(NonUTF8Names.escape([0x63, 0xE9, 0x5C]) == "c\\xE9\\x5C")
        }
    }

    @Test func orphanedFFmpegRunsAreKilledAtStart() async throws {
        let dir = try TempDir()
        let work = dir.file("work")
        try FileManager.default.createDirectory(at: work.appendingPathComponent("d1"), withIntermediateDirectories: true)
        // A pid that is certainly dead: a finished child's.
        let done = Process()
        done.executableURL = URL(fileURLWithPath: "/bin/true")
        try done.run()
        done.waitUntilExit()
        let deadOwner = done.processIdentifier
        func ffmpeg(owner: Int32) throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
            p.arguments = [
                "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=64x64:rate=5", "-t", "120",
                "-f", "mp4", work.appendingPathComponent("d1/.r.mp4.\(owner)-abcdef12.partial").path
            ]
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        let orphan = try ffmpeg(owner: deadOwner)
        let live = try ffmpeg(owner: getpid())
        // SIGKILL: a child of the test runner may inherit a mask that blocks SIGTERM.
        defer { kill(live.processIdentifier, SIGKILL) }
        // /proc shows its arguments once it has exec'd.
        var found: [OrphanReaper.Orphan] = []
        for _ in 0..<100 where found.isEmpty {
            found = OrphanReaper.find(work: work.path)
            if found.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(found.map(\.pid) == [orphan.processIdentifier])
        #expect(found.first?.ownerPid == deadOwner)
        let killed = OrphanReaper.reap(work: work.path)
        #expect(killed.map(\.pid) == [orphan.processIdentifier])
        try await offPool { orphan.waitUntilExit() }
        #expect(orphan.terminationReason == .uncaughtSignal)
        #expect(live.isRunning)
        #expect(OrphanReaper.ownerPid(of: "/w/d/.clip name.mp4.4242-0a1b2c3d.partial") == 4242)
        #expect(OrphanReaper.ownerPid(of: "/w/d/clip.mp4") == nil)
    }

    /// The quick lane claims only drops that need no transcode, so they do not wait behind one that does.
    @Test func passThroughDropsOvertakeATranscode() throws {
        let dir = try TempDir()
        let ledger = try Ledger(path: dir.file("l.sqlite").path)
        try ledger.write { db, _ in
            for (id, plan, at) in [("slow", PlanKind.transcode, 1.0), ("quick", PlanKind.pass, 2.0), ("remux", PlanKind.remux, 3.0)] {
                var d = DropRecord(id: id, pipeline: "p", stem: id, clipPath: "\(id).mp4", sidecarPath: nil, now: at)
                d.state = .validated
                try d.insert(db)
                var x = DeliveryRecord(
                    dropId: id, target: "youtube:main", platform: "youtube", account: "main", profile: "youtube",
                    state: .planned, plan: plan, planDetail: nil, specKey: nil, metadataJson: "{}", contentSha256: id, notBefore: nil, now: at)
                try x.insert(db)
            }
        }
        let slow = try ledger.claimDrop(in: .validated, owner: "h:1:a", lease: 3600)
        #expect(slow?.id == "slow")
        let quick = try ledger.claimDropToConvert(owner: "h:1:a", lane: .quick)
        #expect(quick?.id == "quick")
        let remux = try ledger.claimDropToConvert(owner: "h:1:a", lane: .quick)
        #expect(remux?.id == "remux")
    }
}
