import Foundation

/// When a Threads long-lived token is refreshed (`th_refresh_token`). Threads refreshes a token only
/// once it is at least 24 hours old and before it expires (60 days), and refuses a younger one — with
/// the same OAuthException a revoked token gets. So the token is refreshed only near its end (which a
/// 60-day token reaches long after its first day), never at every start or account check; and a
/// refusal while the token is still in date is not a revocation: the token goes on being used, and
/// the API itself says if it is dead (190 on the next call).
enum ThreadsTokenRule {
    /// Refreshed when less than this is left of it.
    static let refreshWindow: TimeInterval = 7 * 86400
    /// After a refused refresh of a token whose end is unknown, how long it is used before asking again.
    static let retryRefusedAfter: TimeInterval = 6 * 3600

    /// The stored token to go on with, when it is not near its end (nil: refresh it now).
    static func keep(accessToken: String?, expiresAt: Date?, now: Date = Date()) -> (token: String, expires: Date)? {
        guard let t = accessToken, let e = expiresAt, e.timeIntervalSince(now) > refreshWindow else { return nil }
        return (t, e)
    }

    /// After Threads refused a refresh: the token still to use — the stored one while in date, else the
    /// long-lived token itself when its end is unknown — or nil when it has expired (then it is revoked
    /// for good: an expired token cannot be refreshed).
    static func afterRefusal(accessToken: String?, expiresAt: Date?, longLived: String, now: Date = Date()) -> (token: String, expires: Date)? {
        if let e = expiresAt {
            guard e > now else { return nil }
            return (accessToken ?? longLived, e)
        }
        return (accessToken ?? longLived, now.addingTimeInterval(retryRefusedAfter))
    }
}
