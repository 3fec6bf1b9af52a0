import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// The folders a burst of filings shares (the inbox folder the originals leave, outbox/failed/ where the
/// reports get their first names) are synced once for the burst (`SharedFolderSyncs`): when the lane finds
/// nothing more to file — or, in a burst that does not end, after every 32nd filing, so a long flood never
/// leaves them unsynced for long. Seen through the archive stage's injected syncer, on real files.
@Suite struct SharedFolderSyncsTests {
    final class Recorder: @unchecked Sendable {
        let lock = NSLock()
        var syncs: [String] = []
        var all: [String] { lock.withLock { syncs } }
    }

    @Test func aLongBurstSyncsItsSharedFoldersAfterEvery32Filings() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]")
        try config.paths.createAll()
        let ledger = try Ledger(path: config.paths.ledger.path)
        var ctx = try HostHeartbeatTests.context(config, ledger)
        let sub = config.paths.inbox.appendingPathComponent("shoot")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        let recorder = Recorder()
        let root = URL(fileURLWithPath: config.paths.failed.path).resolvingSymlinksInPath().deletingLastPathComponent().path
        ctx.syncer = DirectorySyncer { fd, path in
            let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            recorder.lock.withLock { recorder.syncs.append(real.hasPrefix(root + "/") ? String(real.dropFirst(root.count + 1)) : real) }
            _ = fsync(fd)
        }
        // 34 rejected lone sidecars in one inbox folder: more than one burst's worth of filings.
        let count = SharedFolderSyncs.most + 2
        for i in 0..<count {
            let url = sub.appendingPathComponent("r\(i).yaml")
            try Data("title: [never closed \(i)\n".utf8).write(to: url)
            var st = stat()
            #expect(lstat(url.path, &st) == 0)
            try ledger.recordFile(
                path: "shoot/r\(i).yaml", size: Int64(st.st_size), mtime: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9,
                inode: Int64(st.st_ino), role: .sidecar)
            let id = try #require(try ledger.waitingFiles(atAny: ["shoot/r\(i).yaml"]).first?.id)
            let drop = DropRecord(
                id: String(format: "d-%02d", i), pipeline: "test", stem: "r\(i)", clipPath: nil, sidecarPath: "shoot/r\(i).yaml",
                now: Date().timeIntervalSince1970 + Double(i) / 1000)
            #expect(try ledger.createDrop(drop, fileIDs: [id]))
            try ledger.transitionDrop(drop.id, from: .received, to: .rejected, stage: "validate") { $0.reasonCode = "manifest_syntax" }
        }
        let shared = ["inbox/shoot", "outbox/failed"]
        func sharedSyncs() -> [String] { recorder.all.filter { shared.contains($0) } }

        let stage = ArchiveStage(ctx: ctx, lane: .rejectedAlone)
        for n in 1..<SharedFolderSyncs.most {
            #expect(try await stage.step())
            // Each filing syncs its own folders (failed/, failed/<drop>/, its shoot/), never the shared ones yet.
            #expect(sharedSyncs().isEmpty, "after \(n) filings: \(recorder.all)")
        }
        let before32 = recorder.all.count
        #expect(try await stage.step())
        // The 32nd filing: the shared folders, once each, right after its own.
        #expect(Set(sharedSyncs()) == Set(shared) && sharedSyncs().count == 2, "\(recorder.all)")
        #expect(recorder.all.count == before32 + 3 + 2, "\(recorder.all.suffix(6))")
        // The count starts again: the 33rd filing syncs only its own folders.
        #expect(try await stage.step())
        #expect(sharedSyncs().count == 2, "\(recorder.all.suffix(6))")
        #expect(try await stage.step())
        #expect(sharedSyncs().count == 2)
        // Nothing more to file: the burst's end syncs the shared folders for the last two.
        #expect(try await !stage.step())
        #expect(sharedSyncs().count == 4 && Set(sharedSyncs().suffix(2)) == Set(shared), "\(recorder.all.suffix(4))")
        // And every sidecar was filed, each beside its report.
        for i in 0..<count {
            let id = String(format: "d-%02d", i)
            #expect(FileManager.default.fileExists(atPath: dir.file("failed/\(id)/shoot/r\(i).yaml").path), "\(id)")
            #expect(FileManager.default.fileExists(atPath: dir.file("outbox/failed/\(id).failure.json").path), "\(id)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: sub.path).isEmpty)
    }
}
