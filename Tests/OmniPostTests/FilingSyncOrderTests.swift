import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// Review finding (durability): the folders a filing creates (`failed/<drop>/`, a subfolder of it) are
/// entries in their parents; each parent is synced, with every folder linked into, before an original's
/// inbox name goes — else a power cut could keep the removal and lose the folder, and the original would
/// be in neither place. Seen through the archive stage's injected syncer: each sync, and whether the
/// original was still in the inbox at that moment. (The folders every filing of a burst shares are
/// synced once at its end: `SharedFolderSyncs`.)
@Suite struct FilingSyncOrderTests {
    final class Recorder: @unchecked Sendable {
        let lock = NSLock()
        var syncs: [(path: String, originalInInbox: Bool)] = []
    }

    @Test func everyFolderAFilingCreatesIsSyncedInItsParentBeforeTheInboxNameGoes() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, targets: "targets: [youtube:main]")
        try config.paths.createAll()
        let ledger = try Ledger(path: config.paths.ledger.path)
        var ctx = try HostHeartbeatTests.context(config, ledger)
        let sub = config.paths.inbox.appendingPathComponent("shoot")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        let url = sub.appendingPathComponent("r.yaml")
        try Data("title: [never closed\n".utf8).write(to: url)
        let recorder = Recorder()
        // Paths as the pipeline opened them (the temp dir's real path).
        let root = URL(fileURLWithPath: config.paths.failed.path).resolvingSymlinksInPath().deletingLastPathComponent().path
        ctx.syncer = DirectorySyncer { fd, path in
            let there = FileManager.default.fileExists(atPath: url.path)
            recorder.lock.withLock { recorder.syncs.append((path, there)) }
            _ = fsync(fd)
        }
        var st = stat()
        #expect(lstat(url.path, &st) == 0)
        try ledger.recordFile(
            path: "shoot/r.yaml", size: Int64(st.st_size), mtime: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9, inode: Int64(st.st_ino),
            role: .sidecar)
        let id = try #require(try ledger.waitingFiles(atAny: ["shoot/r.yaml"]).first?.id)
        let drop = DropRecord(id: "d-s", pipeline: "test", stem: "r", clipPath: nil, sidecarPath: "shoot/r.yaml", now: Date().timeIntervalSince1970)
        #expect(try ledger.createDrop(drop, fileIDs: [id]))
        try ledger.transitionDrop("d-s", from: .received, to: .rejected, stage: "validate") { $0.reasonCode = "manifest_syntax" }

        let stage = ArchiveStage(ctx: ctx, lane: .rejectedAlone)
        #expect(try await stage.step())
        #expect(FileManager.default.fileExists(atPath: dir.file("failed/d-s/shoot/r.yaml").path))
        #expect(FileManager.default.fileExists(atPath: dir.file("failed/d-s/d-s.failure.json").path))
        #expect(!FileManager.default.fileExists(atPath: url.path))

        // The folders a burst's filings share (the inbox folder the name left, outbox/failed/ where the
        // report got its first name) wait for the burst's end: the lane's next look, which finds nothing.
        let filed = recorder.lock.withLock { recorder.syncs.count }
        #expect(filed == 3, "\(recorder.syncs)")
        #expect(try await !stage.step())
        let syncs = recorder.lock.withLock { recorder.syncs }
        func rel(_ p: String) -> String {
            let real = URL(fileURLWithPath: p).resolvingSymlinksInPath().path
            return real.hasPrefix(root + "/") ? String(real.dropFirst(root.count + 1)) : real
        }
        let before = syncs.filter(\.originalInInbox).map { rel($0.path) }
        let after = syncs.filter { !$0.originalInInbox }.map { rel($0.path) }
        // failed/ holds the new failed/d-s, failed/d-s the new shoot/ and the report, shoot/ the original:
        // all synced while the original was still in the inbox, each once.
        #expect(Set(before) == ["failed", "failed/d-s", "failed/d-s/shoot"], "\(syncs)")
        #expect(before.count == 3, "\(syncs)")
        // Then, once the burst is over, the inbox folder the name went from and outbox/failed/, once each.
        #expect(Set(after) == ["inbox/shoot", "outbox/failed"] && after.count == 2, "\(syncs)")
    }
}
