import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// `omnipost retry` and `omnipost cancel`, on a drop id or a delivery id. They change the ledger (and,
/// for a finished drop's retry, move its originals back into the inbox); a running daemon picks the
/// change up on its next look, a stopped one at its next start.
package struct QueueControl: Sendable {
    package let config: PipelineConfig
    package let ledger: Ledger
    let who: String
    /// Told the inbox-relative paths a retry moved back into the inbox, once they are all there. The
    /// daemon records them at once (`PipelineContext.control`): a corrected sidecar's clip, brought back
    /// by the daemon itself, must not wait on the watcher to see it arrive while the sidecar's grace runs.
    var returned: (@Sendable ([String]) -> Void)?

    package init(config: PipelineConfig, ledger: Ledger, who: String = "omnipost") {
        self.config = config
        self.ledger = ledger
        self.who = who
    }

    /// Cancels every unpublished delivery of a drop (a drop not yet validated is rejected as `cancelled`),
    /// or one delivery. Returns one line per thing done. A delivery with a platform session is cancelled
    /// only where its target's adapter (in `adapters`, by target name) abandons the session knowing it
    /// never became a post (an S3 multipart upload is aborted); otherwise it is refused, as it may be one.
    package func cancel(_ id: String, adapters: [String: any PlatformAdapter] = [:]) async throws -> [String] {
        if let n = Int64(id) { return [try await cancelDelivery(n, adapters: adapters)] }
        guard let drop = try ledger.drop(id) else { throw OmniError(.unknownId, "there is no drop or delivery '\(id)'") }
        if drop.state.isTerminal { throw OmniError(.invalidValue, "drop \(id) is already \(drop.state.rawValue)") }
        var lines: [String] = []
        if drop.state == .received || drop.state == .validated {
            try ledger.transitionDrop(id, from: drop.state, to: .rejected, stage: "control", detail: "cancelled by \(who)") { d in
                d.reasonCode = ReasonCode.cancelled.rawValue
                d.reasonMessage = "cancelled by \(self.who) before it was published"
            }
            lines.append("drop \(id) cancelled; its originals go to failed/\(id)/")
        }
        var refused: [String] = []
        for d in try ledger.deliveries(forDrop: id) where !d.state.isTerminal {
            do {
                lines.append(try await cancelDelivery(d.id!, adapters: adapters))
            } catch let e as OmniError {
                refused.append(e.message)
            }
        }
        if !refused.isEmpty { throw OmniError(.invalidValue, (lines + refused).joined(separator: "\n")) }
        return lines
    }

    func cancelDelivery(_ n: Int64, adapters: [String: any PlatformAdapter]) async throws -> String {
        guard let held = try ledger.holdForCancel(n) else {
            let d = try ledger.cancelDelivery(n, by: who)
            return "delivery \(n) (\(d.target)) cancelled"
        }
        var gone = false
        if let adapter = adapters[held.target] {
            gone = (try? await adapter.abandon(DeliveryJob.make(held, ledger: ledger, inbox: config.paths.inbox))) ?? false
        }
        guard gone else { throw OmniError(.invalidValue, try ledger.releaseCancelHold(n)) }
        let d = try ledger.cancelDelivery(n, by: who, abandoned: true)
        return "delivery \(n) (\(d.target)) cancelled; its upload on the platform was abandoned"
    }

    /// Retries one failed (or held) delivery of an open drop, or a whole finished drop: its originals go
    /// back into the inbox and come in as a new drop, where the identity check skips every target already
    /// published, and a failed target that held a platform session hands it to the new drop, which
    /// reconciles it first — a post found there is recorded, one that failed is replaced by a new upload.
    /// So only what failed is posted again, and nothing is posted twice. Each line says what will happen.
    /// `corrected`: an inbox-relative path the person already put back, corrected (a sidecar moved back
    /// into the inbox): it is not moved back over, and the old version stays where the archive put it.
    package func retry(_ id: String, corrected: String? = nil) throws -> [String] {
        if let n = Int64(id) {
            guard let d = try ledger.delivery(n) else { throw OmniError(.unknownId, "there is no delivery \(n)") }
            if let drop = try ledger.drop(d.dropId), drop.state.isTerminal { return try retry(drop.id) }
            return [Self.line(try ledger.retryDelivery(n, by: who))]
        }
        guard let drop = try ledger.drop(id) else { throw OmniError(.unknownId, "there is no drop or delivery '\(id)'") }
        if !drop.state.isTerminal {
            let open = try ledger.deliveries(forDrop: id).filter {
                $0.state == .failed || ($0.state == .ready && $0.gate.map { Ledger.releasableGates.contains($0) } == true)
            }
            if open.isEmpty { throw OmniError(.invalidValue, "drop \(id) is \(drop.state.rawValue) and has no failed or held delivery to retry") }
            return try open.map { d in Self.line(try ledger.retryDelivery(d.id!, by: who)) }
        }
        if drop.state == .withdrawn {
            throw OmniError(.invalidValue, "drop \(id) was withdrawn (its clip changed after it was taken); the finished file comes in as a new drop by itself")
        }
        if drop.manifestEntry != nil {
            throw OmniError(
                .invalidValue, "drop \(id) came from the clip list \(drop.sidecarPath ?? "?"); move the list and its clips from its archive folder back into the inbox to retry")
        }
        let deliveries = try ledger.deliveries(forDrop: id)
        if drop.state == .archived, !deliveries.isEmpty, deliveries.allSatisfy({ $0.state == .published || $0.state == .cancelled }) {
            throw OmniError(.invalidValue, "drop \(id) was published to every target; nothing to retry (put `republish: true` in the sidecar to post it again)")
        }
        guard let folder = try ledger.originalsFolder(dropId: id) else {
            throw OmniError(.invalidValue, "drop \(id) has no record of where its originals went")
        }
        let base = Self.originalsBase(folder, paths: config.paths)
        let rels = ([drop.clipPath, drop.sidecarPath].compactMap { $0 } + drop.assets).filter { $0 != corrected }
        let present = rels.filter { FileManager.default.fileExists(atPath: base.appendingPathComponent($0).path) }
        if present.isEmpty {
            // Nothing where the archive put it: retried already (say where it went), or moved by hand.
            if let earlier = try ledger.retriedAs(dropId: id) {
                let next =
                    earlier.drop.map { "; they came in as drop \($0.id), which is \($0.state.rawValue)" + ($0.state.isTerminal ? " — retry that one" : "") }
                    ?? "; no drop has taken them yet"
                throw OmniError(.invalidValue, "drop \(id) was already retried at \(isoStamp(earlier.at)): its originals went back to the inbox\(next)")
            }
            throw OmniError(.invalidValue, "drop \(id)'s originals are no longer in \(folder)/; nothing was moved")
        }
        for rel in present where FileManager.default.fileExists(atPath: config.paths.inbox.appendingPathComponent(rel).path) {
            throw OmniError(.invalidValue, "the inbox already holds \(rel); move it away first")
        }
        // Forgotten first, so the watcher takes the files coming back for new ones; failed sessions are
        // handed to the drop they come back as.
        let handed = try ledger.prepareRetry(dropId: id)
        var lines: [String] = []
        for rel in present {
            try SafeFiles.moveOriginal(from: base.appendingPathComponent(rel), to: config.paths.inbox.appendingPathComponent(rel))
            lines.append("\(folder)/\(rel) → inbox/\(rel)")
        }
        returned?(present)
        try ledger.note(.retried, stage: .control, dropId: id, detail: "originals moved back to the inbox by \(who); they come in as a new drop")
        let published = deliveries.filter { $0.state == .published }.map(\.target)
        let again = deliveries.filter { $0.state != .published && $0.state != .cancelled }.map(\.target)
        var said = "drop \(id): originals back in the inbox; they come in as a new drop"
        if drop.state == .failed && deliveries.isEmpty { said += " and are validated again" }
        if !again.isEmpty { said += "; \(again.joined(separator: ", ")) will be tried again" }
        if !handed.isEmpty {
            said += " (\(handed.joined(separator: ", ")): the earlier upload session is checked first — a post found there is recorded, a failed one is replaced by a new upload)"
        }
        if !published.isEmpty { said += "; published targets are skipped (\(published.joined(separator: ", ")))" }
        lines.append(said)
        return lines
    }

    /// The line a delivery's retry answers with: what happens next.
    static func line(_ r: Ledger.RetriedDelivery) -> String {
        let d = r.delivery
        let n = d.id ?? 0
        if !r.requeued {
            return "delivery \(n) (\(d.target)) was held by \(r.heldBy ?? "a gate"); it is looked at again now (held again if that gate is still shut)"
        }
        return "delivery \(n) (\(d.target)) queued again"
            + (d.remoteSession != nil
                ? "; its upload session is checked first: a post found there is recorded, a failed one is replaced by a new upload" : "")
    }

    /// Where a drop's originals are, from what the archive stage recorded: `archive/<date>/<id>` or
    /// `failed/<id>` under the configured folders.
    static func originalsBase(_ folder: String, paths: PipelinePaths) -> URL {
        folder.hasPrefix("archive/")
            ? paths.archive.appendingPathComponent(String(folder.dropFirst(8)))
            : folder.hasPrefix("failed/")
                ? paths.failed.appendingPathComponent(String(folder.dropFirst(7)))
                : paths.root.appendingPathComponent(folder)
    }
}
