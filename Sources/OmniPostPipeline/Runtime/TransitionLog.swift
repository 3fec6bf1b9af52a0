import Logging
import OmniPostLedger

/// Every drop transition and every delivery outcome as one structured log line (info), with the facts
/// a log shipper filters on as fields — `omnipost.drop`, `omnipost.target`, `omnipost.state`,
/// `omnipost.reason`, `omnipost.attempt` — so `journalctl -u omnipost@studio` answers "what happened
/// to this drop" without the progress prose (which goes to a terminal only).
enum TransitionLog {
    static func log(_ e: EventRecord, pipeline: String, to logger: Logger) {
        // Transitions only: notes (progress, watching, checks) are the progress output's and the ledger's.
        guard let from = e.fromState, from != e.toState else { return }
        var m: Logger.Metadata = [
            "omnipost.pipeline": "\(pipeline)", "omnipost.stage": "\(e.stage)", "omnipost.from": "\(from)", "omnipost.state": "\(e.toState)"
        ]
        if let d = e.dropId { m["omnipost.drop"] = "\(d)" }
        if let t = e.target { m["omnipost.target"] = "\(t)" }
        if let id = e.deliveryId { m["omnipost.delivery"] = "\(id)" }
        if let r = e.reasonCode { m["omnipost.reason"] = "\(r)" }
        if let a = e.attempt { m["omnipost.attempt"] = "\(a)" }
        if let d = e.detail { m["omnipost.detail"] = "\(d)" }
        logger.info(e.deliveryId == nil ? "drop \(e.toState)" : "delivery \(e.toState)", metadata: m)
    }
}
