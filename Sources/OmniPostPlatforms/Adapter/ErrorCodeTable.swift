import Foundation

/// A platform's error codes as data, where its answers carry a code that decides rather than the HTTP
/// status (Douyin's `data.error_code`, Bilibili's `code`, both often under HTTP 200): what each code leads
/// to, with its meaning in words, and the one classification of a reply from them. The platform's own
/// file holds its table and where its code sits in a reply (`DouyinErrors`, `BilibiliErrors`).
package struct ErrorCodeTable: Sendable {
    package enum Action: Equatable, Sendable {
        /// The access token is refused (expired or invalid): refreshed once and the request repeated.
        case refreshToken
        /// The grant itself is gone or never reached this API: a person authorizes the account again.
        case reauthenticate
        /// Requests too frequent: wait, then the same request again.
        case throttled
        /// The app's quota is spent: wait for the platform's next day.
        case quota
        /// A passing fault: the same request again.
        case retry
        /// The request or the account is the problem: it would fail again.
        case permanent
    }

    package struct Row: Sendable {
        package var action: Action
        package var meaning: String
        init(_ action: Action, _ meaning: String) {
            self.action = action
            self.meaning = meaning
        }
    }

    var codes: [Int: Row]
    /// Where a quota's day turns (Douyin's: China's midnight).
    var dayZone = TimeZone(secondsFromGMT: 0)!

    func row(_ code: Int) -> Row? { codes[code] }

    /// Whether `code` refuses the access token itself (refreshed once and repeated, as a 401 is).
    func refusesToken(_ code: Int?) -> Bool { code.flatMap { row($0) }?.action == .refreshToken }

    /// What a failed reply leads to: its code looked up here; HTTP's own failure where it has no code
    /// (or 0). `platform` and `message` make the sentence: "Douyin answered 2100005 (…) while …: …".
    func classify(_ r: AuthorizedHTTP.Reply, code: Int?, platform: String, message: String, during: String, now: Date = Date()) -> DeliveryError {
        let row = code.flatMap { self.row($0) }
        let what = "\(platform) answered \(code.map(String.init) ?? "HTTP \(r.status)")\(row.map { " (\($0.meaning))" } ?? "") while \(during): \(message)"
        let action: Action
        if let code, code != 0 {
            action = row?.action ?? .permanent
        } else {
            switch r.status {
            case 429: action = .throttled
            case 401: action = .reauthenticate
            case 500...599: action = .retry
            default: action = .permanent
            }
        }
        switch action {
        // Still refused after the one refresh AuthorizedHTTP made: the grant itself is gone.
        case .refreshToken, .reauthenticate:
            return DeliveryError(.reauthenticate, .authRevoked, what + "; authorize the account again", httpStatus: r.status)
        case .throttled:
            return DeliveryError(.retryAt(RetryAfter.date(r.headers, default: 60)), .rateLimited, what, httpStatus: r.status)
        case .quota:
            return DeliveryError(.retryAt(nextDay(after: now)), .quotaExhausted, what, httpStatus: r.status)
        case .retry:
            return DeliveryError(.retryNow, .platformError, what, httpStatus: r.status)
        case .permanent:
            return DeliveryError(.permanent, .rejectedByPlatform, what, httpStatus: r.status)
        }
    }

    /// The next midnight in the table's zone: when a spent daily quota is back.
    func nextDay(after now: Date) -> Date {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = dayZone
        return cal.nextDate(after: now, matching: DateComponents(hour: 0, minute: 0, second: 0), matchingPolicy: .nextTime) ?? now.addingTimeInterval(86400)
    }
}
