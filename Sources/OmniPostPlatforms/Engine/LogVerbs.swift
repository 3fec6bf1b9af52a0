import Foundation
import Logging

/// One debug line per verb through swift-log: the platform, the verb, how it ended (`ok`, or the
/// reason code of its failure) and how long it took — what an operator running with `--log-level
/// debug` reads to see where a delivery spends its time, without any adapter logging by hand.
struct LogVerbs: UploadMiddleware {
    let platform: String
    let logger: Logger

    func handle<T: Sendable>(_ verb: UploadVerb, _ job: UploadJob, next: @Sendable () async throws -> T) async throws -> T {
        let start = ContinuousClock.now
        do {
            let v = try await next()
            log(verb, job, "ok", since: start)
            return v
        } catch {
            log(verb, job, Self.status(of: error), since: start)
            throw error
        }
    }

    private func log(_ verb: UploadVerb, _ job: UploadJob, _ status: String, since start: ContinuousClock.Instant) {
        let ms = Int(((ContinuousClock.now - start).seconds * 1000).rounded())
        logger.debug(
            "\(platform) \(verb.rawValue) \(status) in \(ms) ms",
            metadata: [
                "platform": "\(platform)", "verb": "\(verb.rawValue)", "status": "\(status)", "duration_ms": "\(ms)", "delivery": "\(job.deliveryId)"
            ])
    }

    /// A failure's reason code (`network_error`, `rate_limited` …); a session the platform refused is
    /// `session_gone`, cancellation `cancelled`.
    static func status(of error: any Error) -> String {
        switch error {
        case let e as DeliveryError: e.code.rawValue
        case is SessionGone: "session_gone"
        case is CancellationError: "cancelled"
        default: "error"
        }
    }
}
