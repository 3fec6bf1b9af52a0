import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore

/// Reddit's request rules, shared by every call of one adapter: the User-Agent Reddit insists on,
/// form bodies, and its rate window (`X-Ratelimit-Remaining` requests left until `X-Ratelimit-Reset`
/// seconds from now) honoured before a request leaves rather than after a 429.
struct RedditAPI: Sendable {
    let api: AuthorizedHTTP
    let base: String
    let userAgent: String
    let window: RedditWindow

    /// The longest the adapter sleeps for the window to reopen; a longer wait goes back to the queue.
    static let longestSleep = 60.0

    func send(_ path: String, method: HTTPMethod = .GET, form: [(String, String)]? = nil) async throws -> AuthorizedHTTP.Reply {
        if let reopens = await window.closedUntil() {
            let wait = reopens.timeIntervalSinceNow
            if wait > Self.longestSleep {
                throw DeliveryError(.retryAt(reopens), .rateLimited, "Reddit's request window for this client is used up; it reopens in \(Int(wait)) s")
            }
            if wait > 0 { try await Task.sleep(for: .milliseconds(Int64(wait * 1000))) }
        }
        var headers = [("User-Agent", userAgent)]
        var body = ByteBuffer()
        if let form {
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
            body = ByteBuffer(string: TokenProvider.form(form))
        }
        let sep = path.contains("?") ? "&" : "?"
        let r = try await api.send(url: base + path + sep + "raw_json=1", method: method, headers: headers, body: body)
        await window.note(r.headers)
        if r.status == 429 {
            throw DeliveryError(
                .retryAt(RetryAfter.date(r.headers, default: 600)), .rateLimited,
                "Reddit answered 429 (too many requests) to \(path)", httpStatus: 429)
        }
        return r
    }

    /// Reddit's own words for a failed call: `message`/`explanation`, or the body's start.
    static func message(_ r: AuthorizedHTTP.Reply) -> String {
        if let f = r.decoded(RedditWire.Failure.self) {
            let parts = [f.message, f.explanation, f.reason].compactMap { $0 }
            if !parts.isEmpty { return parts.joined(separator: ": ") }
        }
        return Excerpt.quote(String(decoding: r.body.prefix(200), as: UTF8.self))
    }

    func failure(_ r: AuthorizedHTTP.Reply, during: String) -> DeliveryError {
        let what = "Reddit answered \(r.status) while \(during): \(Self.message(r))"
        switch r.status {
        case 401: return DeliveryError(.retryNow, .authRevoked, what, httpStatus: 401)
        case 403: return DeliveryError(.permanent, .rejectedByPlatform, what + " (the account may be banned there, or the app lacks the submit scope)", httpStatus: 403)
        case 408, 500...599: return DeliveryError(.retryNow, .platformError, what, httpStatus: r.status)
        default: return DeliveryError(.permanent, .rejectedByPlatform, what, httpStatus: r.status)
        }
    }

    /// The errors a 200 may carry (`{"json": {"errors": [[CODE, message, field], …]}}`), classified:
    /// RATELIMIT waits the time it names; the rest are Reddit saying no.
    static func submitErrors(_ errors: [[String?]], now: Date = Date()) -> DeliveryError? {
        func item(_ e: [String?], _ i: Int) -> String? { i < e.count ? e[i] : nil }
        guard let first = errors.first else { return nil }
        let code = item(first, 0) ?? "ERROR", text = item(first, 1) ?? "", field = item(first, 2) ?? ""
        let all = errors.map { e in "\(item(e, 0) ?? "?"): \(item(e, 1) ?? "")" }.joined(separator: "; ")
        if code == "RATELIMIT" {
            return DeliveryError(.retryAt(now.addingTimeInterval(waitNamed(in: text) ?? 600)), .rateLimited, "Reddit says: \(text)")
        }
        return DeliveryError(.permanent, .rejectedByPlatform, "Reddit refused the post (\(all))" + (field.isEmpty ? "" : " [field \(field)]"))
    }

    /// "… try again in 5 minutes." / "… for 30 seconds …" → seconds, with a little to spare.
    static func waitNamed(in text: String) -> Double? {
        let words = text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber })
        for (i, w) in words.enumerated() where i + 1 < words.count {
            guard let n = Double(w) else { continue }
            let unit = words[i + 1]
            if unit.hasPrefix("millisecond") { return n / 1000 + 5 }
            if unit.hasPrefix("second") { return n + 5 }
            if unit.hasPrefix("minute") { return n * 60 + 5 }
            if unit.hasPrefix("hour") { return n * 3600 + 5 }
        }
        return nil
    }
}

/// The last rate window Reddit reported for this client.
actor RedditWindow {
    private var remaining: Double?
    private var resetAt: Date?

    func note(_ headers: HTTPHeaders) {
        guard let r = headers.first(name: "X-Ratelimit-Remaining").flatMap(Double.init) else { return }
        remaining = r
        resetAt = headers.first(name: "X-Ratelimit-Reset").flatMap(Double.init).map { Date().addingTimeInterval($0) }
    }

    /// When the window reopens, if it is used up now.
    func closedUntil() -> Date? {
        guard let remaining, remaining < 1, let resetAt, resetAt > Date() else { return nil }
        return resetAt
    }
}
