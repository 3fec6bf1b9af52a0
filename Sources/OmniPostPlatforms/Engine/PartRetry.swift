import Foundation

/// The one retry the engine makes inside an attempt: a request the protocol itself defines as safe to
/// repeat — a cut part (a PUT of the same range, a segment of the same index) or an idempotent follow-up
/// (setting a thumbnail again replaces it). Up to `maxAttempts` tries in a row with `backoff` between
/// them; past that the failure goes to the upload stage, which alone decides whether the attempt is
/// retried (ARCHITECTURE.md, "One layer retries"). Nothing else in an adapter loops on a failure.
struct PartRetry: Sendable {
    let maxAttempts: Int
    let backoff: Backoff
    private(set) var failures = 0

    init(maxAttempts: Int, backoff: Backoff) {
        self.maxAttempts = maxAttempts
        self.backoff = backoff
    }

    init(_ settings: AdapterSettings) { self.init(maxAttempts: settings.maxAttempts, backoff: settings.backoff) }

    /// A request went through: the count of failures in a row starts again.
    mutating func succeeded() { failures = 0 }

    /// One more transient failure in a row: past `maxAttempts` it is handed to the stage; otherwise the
    /// backoff is waited out and the caller sends the same request again.
    mutating func again(after e: DeliveryError) async throws {
        failures += 1
        if failures >= maxAttempts {
            throw DeliveryError(.retryNow, e.code, "\(failures) tries in a row failed; last: \(e.message)", httpStatus: e.httpStatus)
        }
        try await Task.sleep(for: backoff.delay(attempt: failures))
    }

    /// `request` until it answers or fails other than `retryNow`.
    mutating func idempotent<T>(_ request: () async throws -> T) async throws -> T {
        try await idempotent(unless: { _ in false }, request)
    }

    /// The same, but a transient failure `unless` names is not repeated (an expired grant is not the
    /// request's to repeat).
    mutating func idempotent<T>(unless excluded: (DeliveryError) -> Bool, _ request: () async throws -> T) async throws -> T {
        while true {
            do {
                let v = try await request()
                succeeded()
                return v
            } catch let e as DeliveryError where e.kind == .retryNow && !excluded(e) {
                try await again(after: e)
            }
        }
    }
}
