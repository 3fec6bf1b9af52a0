import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
import Synchronization
import Testing

/// Issue 30: a transition rings only the stage loop that takes up what it made, and an idle loop sleeps
/// until rung (or its 30 s safety net). (What a drop costs with this is `make bench`'s, BENCH_ONLY=drops.)
@Suite struct StageRingTests {
    final class Woken: Sendable { let names = Mutex<[String]>([]) }

    /// A loop waiting for one topic sleeps through the rings of others, and wakes at its own; a wait for
    /// any topic wakes at every ring; a ring between the ticket and the wait is never lost.
    @Test(.timeLimit(.minutes(1))) func aRingWakesOnlyTheLoopsOfItsTopic() async throws {
        let bell = Wakeup()
        let woken = Woken()
        func waiter(_ name: String, _ topic: Wakeup.Topic) -> Task<Void, Never> {
            let ticket = bell.ticket(topic)
            return Task {
                await bell.wait(after: ticket, for: topic, timeout: nil)
                woken.names.withLock { $0.append(name) }
            }
        }
        let validate = waiter("validate", .received)
        let archive = waiter("archive", .finished)
        let rejections = waiter("archive.rejected", .rejected)
        let any = waiter("any", .all)
        bell.ring(.finished)
        await archive.value
        await any.value
        // The validate loop's topic did not ring, nor the rejections lane's (a published delivery rings
        // `finished` alone): both still asleep, with no timeout to end them.
        try await Task.sleep(for: .milliseconds(300))
        #expect(woken.names.withLock { $0.sorted() } == ["any", "archive"])
        bell.ring(.received)
        await validate.value
        #expect(woken.names.withLock { $0.sorted() } == ["any", "archive", "validate"])
        bell.ring([.finished, .rejected])
        await rejections.value
        #expect(woken.names.withLock { $0.sorted() } == ["any", "archive", "archive.rejected", "validate"])

        // Rung after the ticket was taken, before the wait began: the wait returns at once.
        let ticket = bell.ticket(.files)
        bell.ring(.files)
        await bell.wait(after: ticket, for: .files, timeout: nil)
        // A ring of every topic (another process's commit, a reload) wakes a topic's loop too.
        let late = waiter("files", .files)
        bell.ring()
        await late.value
    }

    /// A new drop wakes the first validate lane alone while it sleeps (the second woke for every drop and
    /// claimed nothing); with the first lane not asleep — busy, or already woken by the drop before in a
    /// burst — the spare lane is rung. A loop waiting for any topic does not count as the first lane.
    @Test(.timeLimit(.minutes(1))) func aNewDropWakesTheSpareValidateLaneOnlyWhenTheFirstIsNotAsleep() async throws {
        let bell = Wakeup()
        let woken = Woken()
        func waiter(_ name: String, _ topic: Wakeup.Topic) -> Task<Void, Never> {
            let ticket = bell.ticket(topic)
            return Task {
                await bell.wait(after: ticket, for: topic, timeout: nil)
                woken.names.withLock { $0.append(name) }
            }
        }
        let anyTicket = bell.ticket(.received)
        let first = waiter("first", .received)
        let spare = waiter("spare", .receivedSpare)
        let notifier = waiter("notifier", .all)
        // Both lanes asleep (the waits are registered once their tasks ran: give them the moment).
        try await Task.sleep(for: .milliseconds(200))
        bell.ring(.received)
        await first.value
        await notifier.value
        try await Task.sleep(for: .milliseconds(300))
        #expect(woken.names.withLock { $0.sorted() } == ["first", "notifier"], "the spare lane sleeps on")
        // The next drop of the burst: the first lane is not asleep (it is claiming), so the spare is rung.
        bell.ring(.received)
        await spare.value
        #expect(woken.names.withLock { $0.sorted() } == ["first", "notifier", "spare"])
        // The first lane, busy through both rings, looks again when it is done: its ticket moved.
        #expect(bell.ticket(.received) != anyTicket)
    }

    /// A rejected drop wakes the archive's rejections lane alone while it sleeps (both archive lanes woke
    /// for every rejection and one claimed nothing); with that lane not asleep — filing the drop before in
    /// a burst — the lane that files everything is rung too, and helps.
    @Test(.timeLimit(.minutes(1))) func aRejectionWakesTheLaneThatFilesEverythingOnlyWhenTheRejectionsLaneIsNotAsleep() async throws {
        let bell = Wakeup()
        let woken = Woken()
        func waiter(_ name: String, _ topic: Wakeup.Topic) -> Task<Void, Never> {
            let ticket = bell.ticket(topic)
            return Task {
                await bell.wait(after: ticket, for: topic, timeout: nil)
                woken.names.withLock { $0.append(name) }
            }
        }
        let rejections = waiter("archive.rejected", .rejected)
        let archive = waiter("archive", .finished)
        try await Task.sleep(for: .milliseconds(200))
        bell.ring(.rejected)
        await rejections.value
        try await Task.sleep(for: .milliseconds(300))
        #expect(woken.names.withLock { $0 } == ["archive.rejected"], "the archive lane sleeps on")
        // The next rejection of the burst: the rejections lane is filing, so the other lane is rung.
        bell.ring(.rejected)
        await archive.value
        #expect(woken.names.withLock { $0.sorted() } == ["archive", "archive.rejected"])
    }

    @Test func aWaitWithATimeoutEndsWithoutARing() async throws {
        let bell = Wakeup()
        let started = ContinuousClock.now
        await bell.wait(after: bell.ticket(.ready), for: .ready, timeout: .milliseconds(50))
        #expect(ContinuousClock.now - started >= .milliseconds(50))
    }

    /// Each transition rings the loop that takes it up next — and a note (no state) rings nothing.
    @Test func eachTransitionRingsTheStageThatTakesItUp() {
        func drop(_ to: DropState) -> Wakeup.Topic? { WorkRings.topic(of: EventRecord(at: 0, dropId: "d", stage: "s", toState: to.rawValue)) }
        func delivery(_ to: DeliveryState) -> Wakeup.Topic? {
            WorkRings.topic(of: EventRecord(at: 0, dropId: "d", deliveryId: 1, stage: "s", toState: to.rawValue))
        }
        #expect(drop(.received) == .received)
        #expect(drop(.validated) == .validated)
        #expect(drop(.converted) == [.ready, .finished])
        #expect(drop(.rejected) == .rejected)
        // A clip list's entry, rejected: only the lane that files everything takes it.
        var entry = EventRecord(at: 0, dropId: "d", stage: "control", toState: DropState.rejected.rawValue)
        entry.listEntry = true
        #expect(WorkRings.topic(of: entry) == .finished)
        #expect(drop(.failed) == .finished)
        #expect(drop(.withdrawn) == .files)
        #expect(drop(.archived) == nil)
        #expect(delivery(.ready) == .ready)
        #expect(delivery(.published) == [.finished, .published])
        #expect(delivery(.failed) == .finished)
        #expect(delivery(.cancelled) == .finished)
        #expect(delivery(.uploading) == nil)
        #expect(WorkRings.topic(of: EventRecord(at: 0, stage: "accounts", toState: EventKind.checked.rawValue)) == nil)
        // An approval lets the upload go: every loop looks (the old 30 s safety net found it before).
        #expect(WorkRings.topic(of: EventRecord(at: 0, dropId: "d", stage: "control", toState: EventKind.approved.rawValue)) == .all)
        #expect(WorkRings.topic(of: EventRecord(at: 0, stage: "watch", toState: EventKind.complete.rawValue)) == .files)
    }

    /// A clip list's entry cancelled before it was validated, while the rejections lane sleeps: filed at
    /// once by the archive lane that files everything — its rejection's event rings that lane, as the
    /// rejections lane cannot take a list's entry — not at that lane's 30 s safety net (the loops here run
    /// without the process's net, each on its own 30 s timeout).
    @Test(.timeLimit(.minutes(3))) func aClipListEntryCancelledBeforeValidationIsFiledAtOnce() async throws {
        let dir = try TempDir()
        let config = try TestPipelines.config(root: dir.url.appendingPathComponent("p"))
        let p = try await Pipeline.open(config: config, logger: TestPipelines.logger, embedding: TestPipelines.embedding)
        try await stopping(p) {
            let ctx = p.context
            let inbox = config.paths.inbox
            try Data("clip a".utf8).write(to: inbox.appendingPathComponent("a.mp4"))
            try Data("clip b".utf8).write(to: inbox.appendingPathComponent("b.mp4"))
            try Data("clips:\n  - {clip: a.mp4, title: one}\n  - {clip: b.mp4, title: two}\n".utf8).write(to: inbox.appendingPathComponent("l.manifest.yaml"))
            // The watcher, pairing and both archive lanes; no validation, so the entries stay received.
            let loops = Task {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await p.watcher.run(.init(onComplete: { fact in Pipeline.record(fact, ctx: ctx) })) }
                    group.addTask { await Pipeline.loop(AssembleStage(ctx: ctx), ctx: ctx) }
                    group.addTask { await Pipeline.loop(ArchiveStage(ctx: ctx), ctx: ctx) }
                    group.addTask { await Pipeline.loop(ArchiveStage(ctx: ctx, lane: .rejectedAlone), ctx: ctx) }
                }
            }
            defer { loops.cancel() }
            let entries = try await RetryTests.until(seconds: 90) {
                let d = try ctx.ledger.drops()
                return d.count == 2 && d.allSatisfy({ $0.state == .received && $0.manifestEntry != nil }) ? d : nil
            }
            // Both archive lanes asleep (nothing rang them since they started).
            try await Task.sleep(for: .milliseconds(300))
            let cancelled = ContinuousClock.now
            let lines = try await ctx.control(who: "ana (dashboard)").cancel(entries[0].id)
            #expect(lines.first?.contains("cancelled") == true, "\(lines)")
            let filed = try await RetryTests.until(seconds: 60) { try ctx.ledger.drop(entries[0].id).flatMap { $0.state.isTerminal ? $0 : nil } }
            let took = ContinuousClock.now - cancelled
            #expect(filed.state == .failed && filed.reasonCode == "cancelled", "\(filed.state) \(filed.reasonCode ?? "")")
            #expect(took < .seconds(10), "filed \(took) after the cancel: left to the archive lane's 30 s safety net")
            #expect(FileManager.default.fileExists(atPath: dir.file("p/failed/\(entries[0].id)/a.mp4").path))
        }
    }

    /// What the process's safety net asks a pipeline's ledger before it rings its stage loops
    /// (`Ledger.anyOpenWork`): nothing on an empty ledger; a file waiting to pair, a drop not final, a
    /// converted drop with a delivery due — each is open; a converted drop whose only open delivery waits
    /// past the horizon is not (the upload stage names that time itself), nor a filed one once its published
    /// post is entered for its read-back.
    @Test func theSafetyNetRingsOnlyAPipelineWithOpenWork() throws {
        let dir = try TempDir()
        let ledger = try Ledger(path: dir.file("ledger.sqlite").path)
        #expect(try !ledger.anyOpenWork(horizon: 30))
        _ = try ledger.recordFile(path: "a.mp4", size: 1, mtime: 1, inode: 1, role: .clip)
        #expect(try ledger.anyOpenWork(horizon: 30), "a file waiting to pair")
        let waiting = try ledger.waitingFiles()
        let now = Date().timeIntervalSince1970
        let drop = DropRecord(id: "d1", pipeline: "p", stem: "a", clipPath: "a.mp4", sidecarPath: nil, now: now)
        #expect(try ledger.createDrop(drop, fileIDs: waiting.compactMap(\.id)))
        #expect(try ledger.anyOpenWork(horizon: 30), "a drop received")
        try ledger.transitionDrop("d1", from: .received, to: .validated, stage: "validate")
        let later = DeliveryRecord(
            dropId: "d1", target: "x:main", platform: "x", account: "main", profile: "x", state: .ready, plan: .pass, planDetail: nil,
            specKey: nil, metadataJson: "{}", contentSha256: "s", notBefore: now + 3600, now: now)
        try ledger.transitionDrop("d1", from: .validated, to: .converted, stage: "convert", inserting: [later])
        #expect(try !ledger.anyOpenWork(horizon: 30), "its only delivery waits an hour: the upload stage's own deadline")
        #expect(try ledger.anyOpenWork(horizon: 7200), "due within the horizon")
        // Published and filed: open until the verify stage has entered the post for its read-back (its own
        // deadline knows only posts entered), then not.
        let id = try #require(try ledger.deliveries(forDrop: "d1").first?.id)
        try ledger.transitionDelivery(id, from: .ready, to: .uploading, stage: "upload")
        try ledger.transitionDelivery(id, from: .uploading, to: .published, stage: "upload")
        try ledger.transitionDrop("d1", from: .converted, to: .archived, stage: "archive")
        #expect(try ledger.anyOpenWork(horizon: 30), "a published post not yet entered for its read-back")
        #expect(try ledger.enrolPublishedPosts() == 1)
        #expect(try !ledger.anyOpenWork(horizon: 30), "entered: the verify stage names its next read itself")
    }
}
