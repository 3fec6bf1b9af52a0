import Foundation
import OmniPostCore
import OmniPostIngest
import OmniPostLedger
import Synchronization

/// One timer for every pipeline the process runs (issue 30): the stage loops' safety net and the
/// notifier's look for what only time brings. Each loop used to end its idle wait after 30 s of its own —
/// 10 stage loops, the watcher and the notifier, times 8 pipelines: ~185 timers a minute, each a thread
/// woken and a look at the ledger for nothing on an idle daemon. Now one timer comes round every `every`
/// and, for each pipeline on its own SQLite ledger, asks the ledger once whether anything is open that a
/// stage takes up (`Ledger.anyOpenWork`: a file waiting to pair, a drop not final — but a converted one
/// whose open deliveries all wait for a later time, which the upload stage names as its own deadline).
/// Only then are that pipeline's stage loops rung (`look`), so a ring that was missed, or work that came
/// due that no stage named, still costs at most `every`, never a stuck drop — and an idle pipeline costs
/// one indexed query a round, not ten looks. It also asks each watcher whether its inbox is still the
/// folder it watches (`InboxWatcher.lookAtRoot`: a link re-pointed where inotify could not see it), and
/// every `clockRounds` rounds it rings every pipeline's `clock` (the notifier's minute: a backlog's age,
/// the disk filling, a token's expiry, the digest's hour, a failed send's retry).
/// A pipeline on the shared PostgreSQL ledger keeps its loops' own 30 s looks (other hosts' work and
/// lapsed leases are seen only by looking); its notifier and watcher are served here all the same.
final class SafetyNet: Sendable {
    static let process = SafetyNet()

    /// How often the net comes round: the longest a missed ring can hold open work.
    static let every: Duration = .seconds(30)
    /// Every this many rounds, `clock` rings (the notifier's minute).
    static let clockRounds = Int(Notifier.tick.seconds / every.seconds)

    private struct Member {
        var ctx: PipelineContext
        var watcher: InboxWatcher?
    }
    private struct State {
        var members: [ObjectIdentifier: Member] = [:]
        var running = false
        /// Members whose inbox look is still out (a `stat` on a share that stopped answering): not asked again.
        var looking: Set<ObjectIdentifier> = []
    }
    private let state = Mutex(State())

    /// Serves `ctx`'s pipeline (known by its doorbell) from now until `leave`: joined before its loops
    /// start, so none of them sets a 30 s timer of its own first (80 timers at start, one at each instant).
    func join(_ ctx: PipelineContext, watcher: InboxWatcher?) {
        let start = state.withLock { s -> Bool in
            s.members[ObjectIdentifier(ctx.wakeup)] = Member(ctx: ctx, watcher: watcher)
            defer { s.running = true }
            return !s.running
        }
        if start { Task.detached { await self.rounds() } }
    }

    func leave(_ ctx: PipelineContext) {
        state.withLock { _ = $0.members.removeValue(forKey: ObjectIdentifier(ctx.wakeup)) }
    }

    /// Whether this net looks for `ctx`'s stage loops: they then sleep with no timeout of their own.
    func serves(_ ctx: PipelineContext) -> Bool {
        !ctx.ledger.isShared && state.withLock { $0.members[ObjectIdentifier(ctx.wakeup)] != nil }
    }

    /// How long after a round its work is taken to be done, and what it mapped back is given back
    /// (`IdleCompaction.afterPeriodicWork`).
    static let afterRound: Duration = .seconds(2)

    /// The one timer: it lives as long as the process (a round with no member costs nothing).
    private func rounds() async {
        var round = 0
        var wait = Self.every
        while true {
            await Wakeup.sleep(for: wait)
            round += 1
            let members = state.withLock { $0.members }
            for m in members.values { Self.ring(m.ctx, clock: round % Self.clockRounds == 0) }
            // Each inbox's look runs on its own, off this task: a `stat` of an inbox on a hard-mounted share
            // whose server went away never returns, and it must not stop the other pipelines' rounds (their
            // loops have no timer of their own) nor the notifiers' minute that would tell of it.
            for (id, m) in members {
                guard let watcher = m.watcher, state.withLock({ $0.looking.insert(id).inserted }) else { continue }
                DispatchQueue.global(qos: .utility).async {
                    watcher.lookAtRoot()
                    self.state.withLock { _ = $0.looking.remove(id) }
                }
            }
            // In a quiet spell the round's looks and the notifiers' minute fault ~13 MiB of code back in, for
            // the rest of the spell: once they are done it is dropped again (only if it grew, only if quiet).
            await Wakeup.sleep(for: Self.afterRound)
            IdleCompaction.process.afterPeriodicWork()
            wait = Self.every - Self.afterRound
        }
    }

    /// One pipeline's rings for a round.
    static func ring(_ ctx: PipelineContext, clock: Bool) {
        var topics: Wakeup.Topic = clock ? .clock : []
        // A ledger that cannot be read is looked at by the loops themselves.
        if !ctx.ledger.isShared, (try? ctx.ledger.anyOpenWork(horizon: every.seconds)) ?? true { topics.insert(.look) }
        if !topics.isEmpty { ctx.wakeup.ring(topics) }
    }
}
