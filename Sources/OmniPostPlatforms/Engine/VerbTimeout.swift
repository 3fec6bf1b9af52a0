import Foundation

/// A verb that has not ended within its limit is cancelled and reported as a transient network failure
/// (`network_error`, retried by the upload stage) that names the platform, the verb and the limit — a
/// stalled connection or a reply that never comes is never a delivery that hangs. Each request also
/// has its own timeout (`AuthorizedHTTP`); this bounds the verb as a whole (a token refresh and the
/// request after it, a rate window waited out first). The verb runs on a task of its own, so cancelling it
/// interrupts whatever it awaits (HTTP, WebSocket, sleeps all honour cancellation) and nothing else: a
/// child task made here, or the caller's own task where the caller says it is the verb's alone
/// (`ownsTask`: the chunk loop's part). The limit is kept by the process's one `DeadlineWatch`, not by a
/// timer task per verb (docs/performance.md, r16: a task group with a timer task per part was a share
/// of the gap between parts).
struct VerbTimeout: UploadMiddleware {
    let platform: String
    /// The limit for a verb; nil: none (a verb bounded by windows of its own, like Reddit's post).
    let limit: @Sendable (UploadVerb) -> Duration?

    /// Set by a caller whose task runs the verb and nothing else after it (the chunk loop runs each part
    /// in a child task of its own): the limit cancels that task itself rather than a child made for it.
    @TaskLocal static var ownsTask = false

    func handle<T: Sendable>(_ verb: UploadVerb, _ job: UploadJob, next: @Sendable () async throws -> T) async throws -> T {
        guard let limit = limit(verb) else { return try await next() }
        let deadline = ContinuousClock.now + limit
        let (result, expired): (Result<T, any Error>, Bool)
        if Self.ownsTask {
            // What the verb awaits in turn is not the caller's task any more.
            (result, expired) = await DeadlineWatch.shared.guarding(deadline) { try await Self.$ownsTask.withValue(false) { try await next() } }
        } else {
            (result, expired) = await withoutActuallyEscaping(next) { next in
                await withTaskGroup(of: (Result<T, any Error>, Bool).self) { group in
                    group.addTask { await DeadlineWatch.shared.guarding(deadline) { try await next() } }
                    return await group.next()!
                }
            }
        }
        // A verb that ended well as its time ran out keeps its answer (a part the platform confirmed is
        // confirmed); one that failed then was stopped by the limit.
        if expired, case .failure = result {
            throw DeliveryError(
                .retryNow, .networkError, "\(platform) did not finish \(verb.rawValue) within \(Self.describe(limit)); it was stopped and is tried again")
        }
        return try result.get()
    }

    static func describe(_ d: Duration) -> String {
        let s = d.seconds
        return s >= 1 ? "\(Int(s.rounded())) s" : "\(Int((s * 1000).rounded())) ms"
    }
}
