import Foundation
import OmniPostCore

/// Reconcile before resend, written once for every adapter (on the engine or not): a persisted session
/// is asked about first, and `SessionReuse` says what a retried or handed-over one may become.
extension PlatformAdapter {
    /// What the upload stage runs: with a persisted session, `reconcile` first and continue from what the
    /// platform says (or record what it already published); without one, a fresh `publish`.
    package func deliver(
        _ job: UploadJob,
        checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void,
        progress: @escaping @Sendable (Int64, Int64) -> Void
    ) async throws -> PublishOutcome {
        var job = job
        var replaced: String? = nil
        if job.session != nil {
            let state: RemoteState
            do {
                state = try await reconcile(job)
            } catch let e as DeliveryError where e.kind == .permanent && job.sessionReuse != .resume {
                // The platform failed this session (its processing, its container): it is not a post and
                // never will be, and a person asked for the delivery again — so it is uploaded anew.
                replaced = "\(e.code): \(e.message)"
                state = .notStarted
            }
            switch state {
            case .published(var outcome):
                outcome.reconciled = true
                return outcome
            case .notStarted:
                job.session = nil
                job.confirmedOffset = 0
            case .partial where job.sessionReuse == .replaceUnlessLive:
                // Bytes of an earlier rendition: never continued with this one's.
                replaced = replaced ?? "an unfinished upload of an earlier rendition"
                job.session = nil
                job.confirmedOffset = 0
            case .partial(let offset):
                job.confirmedOffset = offset
            case .processing:
                job.confirmedOffset = job.size
            }
        }
        try enforceCarriedText(job)
        var outcome = try await publish(job, checkpoint: checkpoint, progress: progress)
        outcome.replacedSession = replaced
        return outcome
    }
}
