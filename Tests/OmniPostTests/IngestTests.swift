import Foundation
import OmniPostCore
@testable import OmniPostIngest
import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// Ingest through the real pipeline: watcher → ledger → pairing (→ the rest, where a test needs it).
@Suite(.serialized) struct IngestTests {
    /// Runs only the watcher and the assemble stage (no ffprobe, no uploads) until `until` holds.
    static func assembleOnly(_ p: Pipeline, until: @escaping @Sendable () async throws -> Bool, timeout: Duration = .seconds(180)) async throws {
        let ctx = p.context
        let task = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await p.watcher.run(.init(onComplete: { fact in Pipeline.record(fact, ctx: ctx) }))
                }
                group.addTask { await Pipeline.loop(AssembleStage(ctx: ctx), ctx: ctx) }
            }
        }
        defer { task.cancel() }
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if try await until() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        // What the pipeline was holding, for a failure's report.
        let drops = (try? ctx.ledger.drops()) ?? []
        let waiting = (try? ctx.ledger.waitingFiles()) ?? []
        Issue.record(
            """
            condition not reached within \(timeout): \(drops.count) drops (\(drops.filter { $0.clipPath == nil || $0.sidecarPath == nil || $0.state != .received }.prefix(6).map { "\($0.stem) \($0.state): \($0.clipPath ?? "-") + \($0.sidecarPath ?? "-") \($0.reasonCode ?? "") \($0.reasonMessage ?? "")" })), \
            \(waiting.count) files waiting (\(waiting.prefix(5).map(\.path))), pending \(ctx.arriving.writing.snapshot.count) \
            (busy \(ctx.arriving.writing.busy)), arriving \(ctx.arriving.count), watcher candidates \(await p.watcher.pendingCount)
            """)
    }

    @Test func twoThousandPairsDroppedAtOnceAreEachIngestedOnce() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url.appendingPathComponent("p"), settle: "300ms", grace: "30s")
        let p = try await Pipeline.open(config: config, logger: TestPipelines.logger, embedding: TestPipelines.embedding)
        try await stopping(p) {
            // Written elsewhere on the same filesystem, then moved in as fast as the machine can.
            let staging = dir.url.appendingPathComponent("staging")
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
            for i in 0..<2000 {
                try Data("clip \(i)".utf8).write(to: staging.appendingPathComponent("c\(i).mp4"))
                try Data("title: clip \(i)\n".utf8).write(to: staging.appendingPathComponent("c\(i).yaml"))
            }
            let ledger = p.context.ledger
            let mover = Task.detached {
                for i in 0..<2000 {
                    for ext in ["mp4", "yaml"] {
                        _ = rename(staging.appendingPathComponent("c\(i).\(ext)").path, config.paths.inbox.appendingPathComponent("c\(i).\(ext)").path)
                    }
                }
            }
            try await Self.assembleOnly(p, until: { try ledger.drops().count >= 2000 && ledger.waitingFiles().isEmpty }, timeout: .seconds(300))
            await mover.value
            let drops = try ledger.drops()
            #expect(drops.count == 2000)
            #expect(Set(drops.compactMap(\.clipPath)).count == 2000)
            #expect(drops.allSatisfy { d in d.sidecarPath == d.clipPath.map { ($0 as NSString).deletingPathExtension + ".yaml" } })
        }
    }

    @Test func overflowRescanAndRestartMakeNoSecondDrop() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, settle: "200ms", grace: "30s")
        for i in 0..<50 {
            try dir.write("inbox/sub/c\(i).mp4", "clip \(i)")
            try dir.write("inbox/sub/c\(i).json", #"{"title": "c\#(i)"}"#)
        }
        let p = try await Pipeline.open(config: config, logger: TestPipelines.logger, embedding: TestPipelines.embedding)
        let ledger = p.context.ledger
        try await Self.assembleOnly(p, until: { try ledger.drops().count == 50 && ledger.waitingFiles().isEmpty })
        // A forced overflow: the watcher rescans the inbox; the ledger already knows every file.
        await p.watcher.handle(.overflow("forced by test"))
        try await Self.assembleOnly(p, until: { true })
        try await Task.sleep(for: .milliseconds(600))
        #expect(try ledger.drops().count == 50)
        await p.close()
        // A restart scans everything again (startup reconciliation): still 50 drops, no waiting files.
        let p2 = try await Pipeline.open(config: config, logger: TestPipelines.logger, embedding: TestPipelines.embedding)
        try await stopping(p2) {
            try await Self.assembleOnly(p2, until: { await p2.watcher.pendingCount == 0 })
            try await Task.sleep(for: .milliseconds(400))
            #expect(try p2.context.ledger.drops().count == 50)
            #expect(try p2.context.ledger.waitingFiles().isEmpty)
        }
    }

    @Test func sidecarBeforeOrAfterItsClipMakesOneDrop() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, settle: "150ms", grace: "30s")
        let p = try await Pipeline.open(config: config, logger: TestPipelines.logger, embedding: TestPipelines.embedding)
        try await stopping(p) {
            let ledger = p.context.ledger
            let inbox = config.paths.inbox
            let writer = Task.detached {
                try Data("title: early\n".utf8).write(to: inbox.appendingPathComponent("early.yaml"))
                try Data("late clip".utf8).write(to: inbox.appendingPathComponent("late.mp4"))
                try await Task.sleep(for: .milliseconds(1200))
                try Data("early clip".utf8).write(to: inbox.appendingPathComponent("early.mp4"))
                try Data("title: late\n".utf8).write(to: inbox.appendingPathComponent("late.yml"))
            }
            try await Self.assembleOnly(p, until: { try ledger.drops().count == 2 })
            try await writer.value
            let drops = try ledger.drops().sorted { $0.stem < $1.stem }
            #expect(drops.map(\.clipPath) == ["early.mp4", "late.mp4"])
            #expect(drops.map(\.sidecarPath) == ["early.yaml", "late.yml"])
        }
    }

    /// The grace is 6 s, not 2: a clip waiting for its sidecar is taken alone when its grace runs out, and
    /// on a loaded machine (a clean-clone run) 2 s ran out between the rename and the pass that saw it.
    @Test func renamingAFileInTheInboxIsNotANewDrop() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url, settle: "150ms", grace: "6s")
        let p = try await Pipeline.open(config: config, logger: TestPipelines.logger, embedding: TestPipelines.embedding)
        try await stopping(p) {
            let ledger = p.context.ledger
            try dir.write("inbox/take1.mp4", "bytes")
            try await Self.assembleOnly(p, until: { try ledger.waitingFiles().count == 1 })
            try FileManager.default.moveItem(at: config.paths.inbox.appendingPathComponent("take1.mp4"), to: config.paths.inbox.appendingPathComponent("final.mp4"))
            try dir.write("inbox/final.yaml", "title: final\n")
            try await Self.assembleOnly(p, until: { try ledger.drops().count == 1 })
            // Past take1's grace: its old name never becomes a lone drop of its own.
            try await Task.sleep(for: .milliseconds(6500))
            let drops = try ledger.drops()
            #expect(drops.count == 1)
            #expect(drops.first?.clipPath == "final.mp4" && drops.first?.sidecarPath == "final.yaml", "\(drops.map { "\($0.clipPath ?? "-") + \($0.sidecarPath ?? "-") \($0.state)" })")
            // Renaming a file a drop already owns moves the drop's record with it.
            try FileManager.default.moveItem(at: config.paths.inbox.appendingPathComponent("final.mp4"), to: config.paths.inbox.appendingPathComponent("renamed.mp4"))
            try await Self.assembleOnly(p, until: { try ledger.drop(drops[0].id)?.clipPath == "renamed.mp4" })
            #expect(try ledger.drops().count == 1)
        }
    }
}

@Suite struct StartupTests {
    @Test func workLeftoversAreCleanedAndInFlightRenditionsKept() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url)
        try config.paths.createAll()
        let ledger = try Ledger(path: config.paths.ledger.path)
        _ = try ledger.createDrop(DropRecord(id: "inflight", pipeline: "t", stem: "a", clipPath: "a.mp4", sidecarPath: nil, now: 1), fileIDs: [])
        try ledger.transitionDrop("inflight", from: .received, to: .validated, stage: "test")
        _ = try ledger.createDrop(DropRecord(id: "done", pipeline: "t", stem: "b", clipPath: "b.mp4", sidecarPath: nil, now: 1), fileIDs: [])
        try ledger.transitionDrop("done", from: .received, to: .rejected, stage: "test")
        try ledger.transitionDrop("done", from: .rejected, to: .failed, stage: "test")
        for (rel, text) in [("work/inflight/abc.mp4", "verified"), ("work/inflight/.def.mp4.partial", "half"), ("work/done/x.mp4", "old"), ("work/unknown/y.mp4", "stray")] {
            try dir.write(rel, text)
        }
        let r = try WorkReconciler.reconcile(work: config.paths.work, ledger: ledger)
        #expect(r.kept == 1)
        #expect(files(under: config.paths.work) == ["inflight/abc.mp4"])
    }

    @Test func statusShowsHowEachInboxIsWatched() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let modes = try p.context.ledger.watchModes()
            #expect(modes.count == 1)
            #expect(modes.first?.contains("mode=inotify") == true)
            #expect(modes.first?.hasPrefix(config.paths.inbox.path) == true)
        }
    }
}
