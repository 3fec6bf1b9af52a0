import Foundation

/// The verbs the engine calls on an adapter, as middleware sees them.
package enum UploadVerb: String, Sendable {
    case start, part, finish, status, post, reconcile
}

/// Something done around every verb the engine calls — metering a rate-limited request, classifying a
/// raw network failure, a time limit, a log line — the way hummingbird's `MiddlewareProtocol` wraps a
/// responder: it sees the verb and the job, and calls `next` (or throws instead). Adapters inline none
/// of this. `next` is `@Sendable` so that a middleware may run it in a child task (`VerbTimeout`).
package protocol UploadMiddleware: Sendable {
    func handle<T: Sendable>(_ verb: UploadVerb, _ job: UploadJob, next: @Sendable () async throws -> T) async throws -> T
}

/// Middleware run in order, the first outermost (hummingbird's `MiddlewareGroup`).
struct MiddlewareChain: Sendable {
    var items: [any UploadMiddleware]

    func run<T: Sendable>(_ verb: UploadVerb, _ job: UploadJob, _ body: @Sendable () async throws -> T) async throws -> T {
        try await run(items[...], verb, job, body)
    }

    private func run<T: Sendable>(
        _ rest: ArraySlice<any UploadMiddleware>, _ verb: UploadVerb, _ job: UploadJob,
        _ body: @Sendable () async throws -> T
    ) async throws -> T {
        guard let first = rest.first else { return try await body() }
        return try await first.handle(verb, job) { try await run(rest.dropFirst(), verb, job, body) }
    }

    /// What an adapter on the engine runs with: each verb logged (outermost, so its line carries the
    /// outcome the adapter's caller sees), a raw network failure classified, the verb's time limit, and
    /// the `init` request window spent right before `start` where the platform meters it there.
    static func standard<A: ResumableAdapter>(for adapter: A) -> MiddlewareChain {
        var items: [any UploadMiddleware] = [
            LogVerbs(platform: adapter.platform, logger: adapter.settings.logger), ClassifyNetworkFailures(),
            VerbTimeout(platform: adapter.displayName, limit: adapter.verbTimeout)
        ]
        if adapter.metersStart { items.append(MeterStart()) }
        return MiddlewareChain(items: items)
    }
}

/// Counts the request that opens an upload (`init`: TikTok's 6 a minute, X's and LinkedIn's daily
/// windows) in the platform's request window right before it leaves (`UploadJob.beforeRequest`).
struct MeterStart: UploadMiddleware {
    func handle<T: Sendable>(_ verb: UploadVerb, _ job: UploadJob, next: @Sendable () async throws -> T) async throws -> T {
        if verb == .start { try await job.beforeRequest("init") }
        return try await next()
    }
}

/// A network failure a verb let through unwrapped is `network_error`, retried — never an internal error
/// (`NetworkFailure`). Cancellation and the adapter's own classified errors pass as they are.
struct ClassifyNetworkFailures: UploadMiddleware {
    func handle<T: Sendable>(_ verb: UploadVerb, _ job: UploadJob, next: @Sendable () async throws -> T) async throws -> T {
        do { return try await next() } catch let error where !(error is DeliveryError) && !(error is SessionGone) && NetworkFailure.isNetwork(error) {
            throw NetworkFailure.classify(error, "\(job.drop?.target ?? "the platform") (\(verb.rawValue))")
        }
    }
}
