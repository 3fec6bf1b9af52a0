import Foundation
import OmniPostCore
import OmniPostLedger
import Synchronization

/// Once a pipeline has gone quiet, the process gives back what an idle daemon does not use (issue 30):
/// the ledger writer's page cache (`Ledger.releaseIdleMemory`), glibc's freed chunks and the binary's and
/// libraries' mapped code (`IdleCompaction`: `MappedCode.compact`; the page cache keeps it). Quiet is no
/// ring of the pipeline's doorbell for `quiet`: rings announce work (`WorkRings`, the ledger's doorbell,
/// the watcher), while the stages' safety-net looks ring nothing, so an idle pipeline compacts once per
/// busy spell — and wakes for nothing in between.
enum IdleMemory {
    static let quiet: Duration = .seconds(10)

    static func run(_ ctx: PipelineContext) async {
        while !Task.isCancelled {
            var ticket = ctx.wakeup.ticket()
            while true {
                await ctx.wakeup.wait(after: ticket, timeout: quiet)
                if Task.isCancelled { return }
                let now = ctx.wakeup.ticket()
                if now == ticket { break }
                ticket = now
            }
            // Each writer's freed cache is trimmed after its own shrink: a trim before another
            // pipeline's shrink leaves that one's pages in glibc's arenas (1.7 MiB of RssAnon with 8).
            ctx.ledger.releaseIdleMemory {
                ReturnFreedMemory.now()
                IdleCompaction.once()
            }
            // Nothing more to give back until work has come again.
            await ctx.wakeup.wait(after: ticket, timeout: nil)
        }
    }
}

/// The process-wide step of `IdleMemory`: the mappings are the process's, shared by every pipeline, so
/// pipelines going quiet within `IdleMemory.quiet` of each other compact once.
enum IdleCompaction {
    private static let last = Mutex<ContinuousClock.Instant?>(nil)

    static func once() {
        let now = ContinuousClock.now
        let due = last.withLock { last -> Bool in
            if let last, now - last < IdleMemory.quiet { return false }
            last = now
            return true
        }
        guard due else { return }
        MappedCode.compact()
    }
}
