import Foundation
import NIOHTTP1
import OmniPostCore

/// How an adapter classifies a failure, so the shared machinery knows what to do next.
package struct DeliveryError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        /// Transient: try again soon (with backoff).
        case retryNow
        /// Try again at a known time: Retry-After, a quota reset.
        case retryAt(Date)
        /// Credentials need a person: the account's deliveries stop, others go on.
        case reauthenticate
        /// Will never work as it is: the delivery fails with this reason.
        case permanent
    }

    package var kind: Kind
    package var code: ReasonCode
    package var message: String
    package var httpStatus: Int?
    /// A `retryAt` that is the account's, not this delivery's (a 429 on a read of the account itself):
    /// every delivery of the account waits until then.
    package var holdsAccount = false

    package init(_ kind: Kind, _ code: ReasonCode, _ message: String, httpStatus: Int? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
    }

    package var description: String { "\(code): \(message)" + (httpStatus.map { " (HTTP \($0))" } ?? "") }
}

/// Exponential backoff with full jitter (random between 0 and min(cap, base·2^attempt)).
package struct Backoff: Sendable {
    package var base: Duration
    package var cap: Duration
    package init(base: Duration = .seconds(1), cap: Duration = .seconds(60)) {
        self.base = base
        self.cap = cap
    }

    package func delay(attempt: Int) -> Duration {
        let ceiling = min(cap.seconds, base.seconds * pow(2, Double(min(attempt, 30))))
        return .milliseconds(Int64(Double.random(in: 0...ceiling) * 1000))
    }
}

/// When a rate-limited request may be repeated: `Retry-After` (seconds or an HTTP date),
/// `x-rate-limit-reset` (X: epoch seconds), `RateLimit-Reset` / `X-Ratelimit-Reset` (seconds from now,
/// or an epoch time).
package enum RetryAfter {
    /// An HTTP date (RFC 9110 IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`).
    package static func httpDate(_ s: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return f.date(from: s)
    }

    package static func date(_ headers: HTTPHeaders, default fallback: Double, now: Date = Date()) -> Date {
        if let v = headers.first(name: "Retry-After") {
            if let s = Double(v.trimmingCharacters(in: .whitespaces)) { return now.addingTimeInterval(max(0, s)) }
            if let d = httpDate(v) { return max(d, now) }
        }
        if let v = headers.first(name: "x-rate-limit-reset"), let epoch = Double(v) {
            return max(Date(timeIntervalSince1970: epoch), now)
        }
        for name in ["RateLimit-Reset", "X-Ratelimit-Reset"] {
            // Seconds from now (Reddit, the IETF draft), or an epoch time (Bluesky's PDS): no wait is
            // 30 years long, so a value past 10^9 is a moment, not a duration.
            if let v = headers.first(name: name), let s = Double(v) {
                return s > 1e9 ? max(Date(timeIntervalSince1970: s), now) : now.addingTimeInterval(max(0, s))
            }
        }
        return now.addingTimeInterval(fallback)
    }
}
