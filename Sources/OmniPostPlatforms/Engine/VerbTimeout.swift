import Foundation

/// A verb that has not ended within its limit is cancelled and reported as a transient network failure
/// (`network_error`, retried by the upload stage) that names the platform, the verb and the limit — a
/// stalled connection or a reply that never comes is never a delivery that hangs. Each request also
/// has its own timeout (`AuthorizedHTTP`); this bounds the verb as a whole (a token refresh and the
/// request after it, a rate window waited out first). The verb runs in a child task, so cancelling it
/// interrupts whatever it awaits (HTTP, WebSocket, sleeps all honour cancellation).
struct VerbTimeout: UploadMiddleware {
    let platform: String
    /// The limit for a verb; nil: none (a verb bounded by windows of its own, like Reddit's post).
    let limit: @Sendable (UploadVerb) -> Duration?

    private enum Race<T: Sendable>: Sendable {
        case done(T)
        case timedOut
    }

    func handle<T: Sendable>(_ verb: UploadVerb, _ job: UploadJob, next: @Sendable () async throws -> T) async throws -> T {
        guard let limit = limit(verb) else { return try await next() }
        return try await withoutActuallyEscaping(next) { next in
            try await withThrowingTaskGroup(of: Race<T>.self) { group in
                group.addTask { .done(try await next()) }
                group.addTask {
                    try await Task.sleep(for: limit)
                    return .timedOut
                }
                defer { group.cancelAll() }
                guard case .done(let v)? = try await group.next() else {
                    throw DeliveryError(
                        .retryNow, .networkError,
                        "\(platform) did not finish \(verb.rawValue) within \(Self.describe(limit)); it was stopped and is tried again")
                }
                return v
            }
        }
    }

    static func describe(_ d: Duration) -> String {
        let s = d.seconds
        return s >= 1 ? "\(Int(s.rounded())) s" : "\(Int((s * 1000).rounded())) ms"
    }
}
