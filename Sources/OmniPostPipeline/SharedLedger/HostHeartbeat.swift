import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostLedger
import Synchronization

/// Whether this host may claim work: true while its heartbeat reaches the ledger. A host that lost the
/// database stops claiming and says so (`/readyz` fails with the sentence, an alert fires once) instead
/// of reporting itself healthy while its leases lapse under it (issue 27). Shared by every copy of the
/// pipeline's context.
package final class HostHealth: Sendable {
    private struct State {
        var lostSince: Date?
        var reason = ""
    }
    private let state = Mutex(State())

    package init() {}

    /// The claim loops ask this before each claim.
    package var claiming: Bool { state.withLock { $0.lostSince == nil } }

    /// Since when, and why, the ledger is lost (nil: it is not).
    package var lost: (since: Date, reason: String)? { state.withLock { s in s.lostSince.map { ($0, s.reason) } } }

    /// Marks the ledger lost; true the first time (the moment to say so), false while it stays lost.
    func lose(at now: Date, reason: String) -> Bool {
        state.withLock { s in
            defer { s.reason = reason }
            guard s.lostSince == nil else { return false }
            s.lostSince = now
            return true
        }
    }

    /// Marks the ledger reached; when it had been lost, since when.
    func regain() -> Date? {
        state.withLock { s in
            defer { s.lostSince = nil }
            return s.lostSince
        }
    }
}

/// The daemon's heartbeat (docs/several-hosts.md, "When a host or the database dies"): every
/// `host.heartbeat` this process writes its row in `ledger_hosts` (on the shared ledger) and renews the
/// uploads running and the drops its stages have in hand (`InHand`), in one transaction (`Ledger.beat`). The same loop runs on SQLite, where it renews
/// the uploads' leases and proves the ledger takes a write. A beat that fails marks the host lost —
/// the claim loops stop claiming, `/readyz` answers 503 with the sentence, an alert goes to every
/// sink once — and the first beat that succeeds again resumes claiming and says so.
struct HostHeartbeat: Sendable {
    let ctx: PipelineContext
    let http: HTTPClient?

    func run() async {
        while !Task.isCancelled {
            let ticket = ctx.wakeup.ticket(.held)
            let renewed = await beat()
            if !ctx.ledger.isShared, renewed == 0 {
                // This host's own SQLite ledger with no upload held: a beat would renew nothing (nobody
                // else reads `ledger_hosts` here), so none is taken until an upload is claimed — an idle
                // daemon is not woken each heartbeat (issue 30). A write that fails is then met by the
                // stage that makes it, and the next beat.
                await ctx.wakeup.wait(after: ticket, for: .held, timeout: nil)
                continue
            }
            do { try await Task.sleep(for: ctx.config.host.heartbeat) } catch { return }
        }
    }

    /// One beat; the uploads it renewed. On the shared ledger it runs on a thread of its own: a database
    /// that does not answer holds a connection attempt for seconds, which must not hold one of the few
    /// threads the stages share. (This host's SQLite file is written in place, as the stages write it.)
    @discardableResult
    func beat() async -> Int {
        let ctx = ctx
        let once: @Sendable () -> Result<Int, any Error> = {
            Result {
                try ctx.ledger.beat(
                    owner: ctx.owner, host: ctx.config.host.name, pid: Int(getpid()),
                    roles: ctx.config.host.roles.sorted().map(\.rawValue), lease: ctx.config.host.leaseSeconds,
                    holding: ctx.dropsInHand.ids, uploads: ctx.uploadsInHand.ids)
            }
        }
        let result: Result<Int, any Error> =
            ctx.ledger.isShared
            ? await withCheckedContinuation { done in Thread { done.resume(returning: once()) }.start() }
            : once()
        switch result {
        case .success(let renewed):
            guard let since = ctx.hostHealth.regain() else { return renewed }
            let away = Int(ctx.now.timeIntervalSince(since).rounded())
            let sentence = "\(ctx.config.host.name) reached the ledger again after \(away) s; it claims work again"
            ctx.logger.notice("the ledger is reachable again", metadata: ["omnipost.host": "\(ctx.config.host.name)", "omnipost.seconds": "\(away)"])
            ctx.progress.line("  ledger              \(sentence)")
            try? ctx.ledger.note(.ledgerBack, stage: .startup, detail: sentence)
            await alert(kind: "ledger_back", title: "\(ctx.config.name): \(sentence)", body: sentence, at: since)
            ctx.wakeup.ring()
            return renewed
        case .failure(let error):
            let e = OmniError.wrap(error, as: .ledgerUnreachable)
            let sentence = Self.lostSentence(host: ctx.config.host.name, e)
            // A lost ledger is beaten for again each heartbeat until it answers (as if something were held).
            guard ctx.hostHealth.lose(at: ctx.now, reason: sentence) else { return 1 }
            ctx.logger.error("lost the ledger: not claiming", metadata: ["omnipost.host": "\(ctx.config.host.name)", "error": "\(e)"])
            ctx.progress.line("  ledger              \(sentence)")
            await alert(kind: ReasonCode.ledgerLost.rawValue, title: "\(ctx.config.name): \(ctx.config.host.name) lost the ledger", body: sentence, at: ctx.now)
            return 1
        }
    }

    /// What `/readyz`, the log and the alert say.
    static func lostSentence(host: String, _ e: OmniError) -> String {
        "\(ReasonCode.ledgerLost): \(host) cannot reach the ledger (\(e.code): \(e.message)); it claims no work until its heartbeat reaches it again"
    }

    /// Straight to every sink: the ledger, where alerts otherwise wait to be sent, is what was lost. Sent
    /// by each host that loses it (they cannot agree through the ledger they lost), once per loss.
    private func alert(kind: String, title: String, body: String, at: Date) async {
        guard let notify = ctx.config.notify, let http else { return }
        let sender = AlertSender(config: ctx.config, http: http)
        let message = AlertSender.Message(
            key: "\(kind):\(ctx.config.host.name):\(Int(at.timeIntervalSince1970))", kind: kind, title: title, body: body,
            facts: AlertFacts(reasonCode: kind, at: at.timeIntervalSince1970))
        for sink in notify.sinks {
            let outcome = await sender.post(sink, message)
            if outcome != .sent {
                ctx.logger.warning("a sink did not take the ledger alert", metadata: ["omnipost.sink": "\(sink.name)", "omnipost.outcome": "\(outcome)"])
            }
        }
    }
}
