import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import Synchronization
import Testing

/// Issue 30: the process gives back its memory once per quiet spell of the whole process — when every
/// pipeline has been quiet — not once per pipeline going quiet, and never while another pipeline is busy
/// (`IdleCompaction`): each pipeline's ledger writer shrinks first, then glibc's trim and the mapped code
/// once.
@Suite struct IdleCompactionRuleTests {
    final class Log: Sendable {
        let entries = Mutex<[String]>([])
        func add(_ s: String) { entries.withLock { $0.append(s) } }
        var all: [String] { entries.withLock { $0 } }
        func count(_ s: String) -> Int { all.filter { $0 == s }.count }
    }
    final class Box<T: Sendable>: Sendable {
        let value: Mutex<T>
        init(_ v: T) { value = Mutex(v) }
        func get() -> T { value.withLock { $0 } }
        func set(_ v: T) { value.withLock { $0 = v } }
    }

    /// Two pipelines on real SQLite ledgers: one going quiet while the other is busy compacts nothing;
    /// the second going quiet shrinks both writers, then compacts once; another quiet spell of one of
    /// them (the other still quiet) compacts once more; leaving never compacts.
    @Test func twoPipelinesOneBusyNoCompactionUntilBothAreQuiet() async throws {
        let dir = try TempDir()
        let log = Log()
        let done = Box<CheckedContinuation<Void, Never>?>(nil)
        let compaction = IdleCompaction {
            log.add("compact")
            done.value.withLock { $0?.resume(); $0 = nil }
        }
        let ledgers = try (0..<2).map { try Ledger(path: dir.file("l\($0).sqlite").path) }
        let members = ledgers.enumerated().map { i, ledger in
            compaction.join { then in
                ledger.releaseIdleMemory {
                    log.add("shrink \(i)")
                    then()
                }
            }
        }
        func compacted(after step: () -> Void) async {
            await withCheckedContinuation { c in
                done.set(c)
                step()
            }
        }
        // Both start busy (start-up is work). The first goes quiet: the second is busy, nothing happens.
        members[0].quiet()
        // The second's writer queue is drained: had a compaction begun, its shrink would show by now.
        _ = try await offPool { try ledgers[1].writer.writeWithoutTransaction { _ in } }
        _ = try await offPool { try ledgers[0].writer.writeWithoutTransaction { _ in } }
        #expect(log.all.isEmpty, "\(log.all)")

        // The second goes quiet: both writers shrink, then the one compaction.
        await compacted { members[1].quiet() }
        #expect(log.count("compact") == 1)
        #expect(Set(log.all.prefix(2)) == ["shrink 0", "shrink 1"] && log.all.last == "compact", "\(log.all)")

        // Quiet again without work between: nothing more to give back.
        members[1].quiet()
        members[0].quiet()
        #expect(log.count("compact") == 1)

        // The second is busy, then quiet again, the first quiet all along: a new spell, one compaction.
        members[1].busy()
        await compacted { members[1].quiet() }
        #expect(log.count("compact") == 2)

        // One busy while the other leaves: no compaction; nor when the busy one leaves too.
        members[0].busy()
        members[1].leave()
        members[0].leave()
        #expect(log.count("compact") == 2)
    }

    /// The same rule through `IdleMemory`'s own loop on two doorbells: one rung every 50 ms, from a thread
    /// of its own, is busy — the other, quiet for longer than `quiet`, compacts nothing — until the rings
    /// stop; then the process compacts once.
    @Test(.timeLimit(.minutes(1))) func aPipelineRungTheWholeTimeHoldsTheCompactionBack() async throws {
        let count = Box(0)
        let compaction = IdleCompaction { count.value.withLock { $0 += 1 } }
        let bells = [Wakeup(), Wakeup()]
        let quiet = Duration.milliseconds(600)
        let loops = bells.map { bell in
            let member = compaction.join { then in then() }
            return Task { await IdleMemory.watch(bell, quiet: quiet, member: member) }
        }
        defer { for l in loops { l.cancel() } }
        let ringing = Box(true)
        let ringer = Thread {
            while ringing.get() {
                bells[0].ring(.files)
                usleep(50_000)
            }
        }
        ringer.start()
        // The quiet pipeline's `quiet` passes three times over: no compaction while the other is busy.
        try await Task.sleep(for: quiet * 3)
        #expect(count.get() == 0)
        // Rings of the safety net (`look`, `clock`) are not work: they do not keep a pipeline busy.
        ringing.set(false)
        let end = ContinuousClock.now + .seconds(30)
        while count.get() == 0, ContinuousClock.now < end {
            bells[0].ring([.look, .clock])
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(count.get() == 1)
        // Quiet on: no second compaction.
        try await Task.sleep(for: quiet * 2)
        #expect(count.get() == 1)
    }

    /// The safety net's round in a quiet spell already compacted: the code it faulted back is dropped
    /// again only when the file-backed pages grew by `regrowthKiB` since the last compaction, never while
    /// a pipeline is busy or before the spell's own compaction, and the figure it measures from is taken
    /// again after each compaction.
    @Test func periodicWorkInACompactedQuietSpellDropsWhatItMappedBackOnce() async throws {
        let log = Log()
        let fileKiB = Box(20_000)
        let done = Box<CheckedContinuation<Void, Never>?>(nil)
        let compaction = IdleCompaction(
            compact: {
                log.add("compact")
                fileKiB.set(6_000)
                done.value.withLock { $0?.resume(); $0 = nil }
            },
            compactCode: {
                log.add("code")
                fileKiB.set(6_500)
            },
            fileResidentKiB: { fileKiB.get() })
        let members = (0..<2).map { _ in compaction.join { then in then() } }
        // Both busy (start-up): a round's periodic work is no reason to compact anything.
        compaction.afterPeriodicWork()
        #expect(log.all.isEmpty)
        members[0].quiet()
        compaction.afterPeriodicWork()
        #expect(log.all.isEmpty, "one pipeline still busy")
        await withCheckedContinuation { c in
            done.set(c)
            members[1].quiet()
        }
        #expect(log.all == ["compact"])
        // The compaction's own completion (the figure taken after it) runs just after `compact`: until it has,
        // periodic work drops nothing.
        let end = ContinuousClock.now + .seconds(30)
        while compaction.compactedFileKiB == nil, ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(10)) }
        #expect(compaction.compactedFileKiB == 6_000)
        fileKiB.set(6_000 + IdleCompaction.regrowthKiB - 1)
        compaction.afterPeriodicWork()
        #expect(log.all == ["compact"], "grown by less than regrowthKiB: left alone")
        fileKiB.set(6_000 + IdleCompaction.regrowthKiB)
        compaction.afterPeriodicWork()
        #expect(log.all == ["compact", "code"], "grown by regrowthKiB since the compaction: dropped once")
        #expect(compaction.compactedFileKiB == 6_500)
        // From the new figure (6,500): less than regrowthKiB more is left alone.
        fileKiB.set(6_500 + IdleCompaction.regrowthKiB - 1)
        compaction.afterPeriodicWork()
        #expect(log.count("code") == 1)
        fileKiB.set(6_500 + IdleCompaction.regrowthKiB)
        compaction.afterPeriodicWork()
        #expect(log.count("code") == 2)
        // Work comes: the spell is over, periodic work compacts nothing until the next spell's compaction.
        members[0].busy()
        fileKiB.set(50_000)
        compaction.afterPeriodicWork()
        #expect(log.count("code") == 2 && log.count("compact") == 1)
    }
}
