import Foundation
import OmniPostCore
import OmniPostLedger

/// Gives back what the ledger's writer connection cached once the pipeline has gone quiet (issue 30;
/// `Ledger.releaseIdleMemory`). Quiet is no ring of the pipeline's doorbell for `quiet`: rings announce
/// work (`WorkRings`, the ledger's doorbell, the watcher), while the stages' safety-net looks ring
/// nothing, so an idle pipeline lets go once per busy spell — and wakes for nothing in between.
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
            ctx.ledger.releaseIdleMemory()
            // Nothing more to give back until work has come again.
            await ctx.wakeup.wait(after: ticket, timeout: nil)
        }
    }
}
