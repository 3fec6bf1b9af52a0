import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// The archive stage on two hosts sharing the inbox and the ledger (issue 27; two contexts on one
/// ledger and one set of folders, as two hosts mount them): while one host files a drop the other does
/// nothing with it, and when that host stopped half-way the other finishes into the folder it chose —
/// the original already moved recognised there, not reported lost.
@Suite struct SharedFilingTests {
    @Test func aFilingHalfDoneByAHostThatStoppedIsFinishedByAnotherIntoTheSameFolder() async throws {
        let dir = try TempDir()
        let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
        func config(_ host: String) throws -> PipelineConfig {
            try TestPipelines.config(root: dir.url, extra: "host: \(host)", targets: "targets: [youtube:main]")
        }
        let a = try config("box-a"), b = try config("box-b")
        try a.paths.createAll()
        // Each host its own connection to the ledger.
        let ledgerA = try Ledger(path: a.paths.ledger.path, clock: clock), ledgerB = try Ledger(path: b.paths.ledger.path, clock: clock)
        let ctxA = try HostHeartbeatTests.context(a, ledgerA), ctxB = try HostHeartbeatTests.context(b, ledgerB)

        // A drop of a clip and its sidecar, converted, nothing left to upload: ready to file.
        var ids: [Int64] = []
        for (name, text) in [("a.mp4", "clip bytes"), ("a.yaml", "title: a\n")] {
            let url = a.paths.inbox.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            var st = stat()
            #expect(lstat(url.path, &st) == 0)
            let mtime = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
            try ledgerA.recordFile(path: name, size: Int64(st.st_size), mtime: mtime, inode: Int64(st.st_ino), role: DropNaming.role(of: name))
            ids.append(try #require(try ledgerA.waitingFiles(atAny: [name]).first?.id))
        }
        let now = clock.now().timeIntervalSince1970
        #expect(try ledgerA.createDrop(DropRecord(id: "d-a", pipeline: "test", stem: "a", clipPath: "a.mp4", sidecarPath: "a.yaml", now: now), fileIDs: ids))
        try ledgerA.transitionDrop("d-a", from: .received, to: .validated, stage: "validate")
        try ledgerA.transitionDrop("d-a", from: .validated, to: .converted, stage: "convert")

        // box-a takes it, claims the filing, moves the clip — and stops there (its process is gone).
        _ = try #require(try ledgerA.claimDropReadyToArchive(owner: ctxA.owner))
        let folder = "archive/2027/01/15/d-a"
        _ = try #require(try ledgerA.claimFiling(dropId: "d-a", owner: ctxA.owner, host: "box-a", folder: folder, lease: a.host.leaseSeconds))
        let dest = dir.url.appendingPathComponent(folder)
        try FileManager.default.createDirectory(at: dest, withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: a.paths.inbox.appendingPathComponent("a.mp4"), to: dest.appendingPathComponent("a.mp4"))

        let stage = ArchiveStage(ctx: ctxB)
        #expect(try await stage.step() == false, "box-a holds the drop")
        // box-a's drop lease lapses while its filing is still live (its heartbeat renewed it): box-b takes the
        // drop, sees the filing taken and does nothing.
        clock.advance(290)
        try ledgerA.beat(owner: ctxA.owner, host: "box-a", pid: 1, roles: ["ingest"], lease: a.host.leaseSeconds, holding: ["d-a"])
        clock.advance(15)
        _ = try await stage.step()
        #expect(try ledgerB.drop("d-a")?.state == .converted && FileManager.default.fileExists(atPath: a.paths.inbox.appendingPathComponent("a.yaml").path))
        // box-a never beats again: once box-b's own hold of the drop lapses it takes the filing over.
        clock.advance(301)
        #expect(try await stage.step())
        #expect(try ledgerB.drop("d-a")?.state == .archived)
        #expect(FileManager.default.fileExists(atPath: dest.appendingPathComponent("a.mp4").path))
        #expect(FileManager.default.fileExists(atPath: dest.appendingPathComponent("a.yaml").path), "into box-a's folder, not one of its own choosing")
        #expect(try FileManager.default.contentsOfDirectory(atPath: a.paths.inbox.path).filter { !$0.hasPrefix(".") }.isEmpty)
        let result = try String(contentsOf: a.paths.outbox.appendingPathComponent("d-a.result.json"), encoding: .utf8)
        #expect(result.contains("\"originals\" : \"\(folder)\"") || result.contains("\"originals\":\"\(folder)\""), "\(result)")
        #expect(!result.contains("not_filed") && !result.contains("gone from where it was taken"), "the clip box-a moved is not reported lost: \(result)")
        #expect(try ledgerB.events(forDrop: "d-a").contains { $0.kind == .filingTakenOver })
        #expect(try ledgerB.filing(of: "d-a").map { "\($0.host) \($0.done)" } == "box-b true")
    }
}
