import Foundation
import OmniPostCore
import OmniPostLedger

/// Drops waiting for approval past their deadlines: after `approval.remind_after` the reviewers are told
/// again (once); after `approval.expire_after` the drop is rejected as `approval_expired`, nothing sent.
/// Sleeps until the next deadline (a drop that starts waiting later rings the doorbell).
///
/// On a shared ledger one host watches: the one holding the duties (`PipelineContext.holdsDuties`); the
/// others ask again each beat. An approval itself is not this watcher's: whichever host's dashboard,
/// API or command takes it releases the deliveries in the ledger at once (under `FOR UPDATE`, so an
/// expiry racing it acts once), and the watching host reads the drop no longer waiting at its next look
/// — rung within a second by the other host's event (`Pipeline.watchLedger`).
struct ApprovalWatch: Sendable {
    let ctx: PipelineContext

    func run() async {
        let a = ctx.config.approval
        guard a.remindAfter != nil || a.expireAfter != nil else { return await Self.forever() }
        while !Task.isCancelled {
            // A drop starts waiting for approval when it is validated: that ring, or the next deadline.
            let ticket = ctx.wakeup.ticket(.validated)
            guard ctx.holdsDuties() else {
                await ctx.wakeup.wait(after: ticket, for: .validated, timeout: ctx.dutyLook)
                continue
            }
            let next = (try? step()) ?? nil
            let pause = next.map { max(0.05, $0.timeIntervalSince(ctx.now)) }
            await ctx.wakeup.wait(after: ticket, for: .validated, timeout: pause.map { .milliseconds(Int64($0 * 1000)) })
        }
    }

    /// Acts on every deadline that passed; the next one still ahead.
    @discardableResult
    func step() throws -> Date? {
        let a = ctx.config.approval, now = ctx.now.timeIntervalSince1970
        var next: Double? = nil
        let control = ctx.control(who: "approval.expire_after")
        for w in try ctx.ledger.dropsAwaitingApproval() {
            if let expire = a.expireAfter?.seconds {
                if now - w.since >= expire {
                    _ = try? control.reject(w.dropId, code: .approvalExpired)
                    continue
                }
                next = min(next ?? .infinity, w.since + expire)
            }
            if let remind = a.remindAfter?.seconds, !w.reminded {
                if now - w.since >= remind {
                    try ctx.ledger.note(
                        .approvalReminder, stage: .control, dropId: w.dropId,
                        detail: "has waited for approval since \(isoStamp(w.since))"
                            + (a.expireAfter.map { "; it is rejected at \(isoStamp(w.since + $0.seconds)) unless approved" } ?? ""))
                } else {
                    next = min(next ?? .infinity, w.since + remind)
                }
            }
        }
        return next.map { Date(timeIntervalSince1970: $0) }
    }

    /// A task in the run's group must not end by itself (the group ends when one does).
    static func forever() async {
        await Wakeup.untilCancelled()
    }
}
