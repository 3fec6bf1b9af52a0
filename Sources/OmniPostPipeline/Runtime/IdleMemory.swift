import Foundation
import OmniPostCore
import OmniPostLedger

/// Once the process has gone quiet, it gives back what an idle daemon does not use (issue 30): each
/// pipeline's ledger writer its page cache (`Ledger.releaseIdleMemory`), then — once for the process —
/// glibc's freed chunks and the binary's and libraries' mapped code (`IdleCompaction`; the page cache keeps
/// them). A pipeline is quiet after no ring of its doorbell for `quiet`: rings announce work (`WorkRings`,
/// the ledger's doorbell, the watcher), while the process-wide safety net's `look` and `clock` rings
/// (`SafetyNet`) announce none and are not counted, so an idle process compacts once per quiet spell — and
/// is woken for nothing in between.
enum IdleMemory {
    static let quiet: Duration = .seconds(10)
    /// The rings that mean work: all but the safety net's.
    static let work = Wakeup.Topic.all.subtracting([.look, .clock])

    static func run(_ ctx: PipelineContext, compaction: IdleCompaction = .process) async {
        let member = compaction.join { done in ctx.ledger.releaseIdleMemory(then: done) }
        defer { member.leave() }
        await watch(ctx.wakeup, quiet: quiet, member: member)
    }

    /// Marks `member` quiet after `quiet` without a ring of `wakeup`'s work topics, and busy at the next.
    static func watch(_ wakeup: Wakeup, quiet: Duration, member: IdleCompaction.Member) async {
        while !Task.isCancelled {
            var ticket = wakeup.ticket(work)
            while true {
                await wakeup.wait(after: ticket, for: work, timeout: quiet)
                if Task.isCancelled { return }
                let now = wakeup.ticket(work)
                if now == ticket { break }
                ticket = now
            }
            member.quiet()
            // Nothing more to give back until work has come again.
            await wakeup.wait(after: ticket, for: work, timeout: nil)
            member.busy()
        }
    }
}
