import Foundation

/// What a Douyin Open Platform error leads to, as data. Douyin answers almost every failure with HTTP
/// 200 and the code in its envelope — `data.error_code` with `data.description`, repeated in
/// `extra.error_code` (with `sub_error_code`) — so the code, not the status, decides. The codes are the
/// status-code table (developer.open-douyin.com/docs/resource/zh-CN/dop/develop/openapi/status-code: the
/// old general codes 2100004–2190016 that the video APIs still answer with, and the new 28001005–28003018),
/// and the token endpoints' 10005–10020 (account-permission/refresh-access-token, refresh-token).
struct DouyinErrors: Sendable {
    enum Action: Equatable, Sendable {
        /// The access token is refused (expired or invalid): refreshed once and the request repeated.
        case refreshToken
        /// The grant itself is gone or never reached this API: a person authorizes the account again.
        case reauthenticate
        /// Requests too frequent: wait, then the same request again.
        case throttled
        /// The app's quota is spent: wait for the next day.
        case quota
        /// A passing fault ("系统繁忙", "网络调用错误"): the same request again.
        case retry
        /// The request or the account is the problem: it would fail again.
        case permanent
    }

    struct Row: Sendable {
        var action: Action
        var meaning: String
        init(_ action: Action, _ meaning: String) {
            self.action = action
            self.meaning = meaning
        }
    }

    var codes: [Int: Row]

    /// The table as Douyin documents it.
    static let douyin = DouyinErrors(codes: [
        2_100_004: Row(.retry, "system busy, try again later"),
        2_100_005: Row(.permanent, "a parameter is not valid"),
        2_100_007: Row(.permanent, "no permission for this operation"),
        2_100_009: Row(.permanent, "the user is banned from this operation"),
        2_190_001: Row(.quota, "the app's quota is used up"),
        2_190_002: Row(.refreshToken, "access_token is invalid"),
        2_190_004: Row(.reauthenticate, "the app has not been granted this capability (scope)"),
        2_190_008: Row(.refreshToken, "access_token expired: refresh it or authorize again"),
        2_190_015: Row(.reauthenticate, "access_token and open_id belong to different users"),
        2_190_016: Row(.permanent, "the app is banned or offline"),
        28_001_005: Row(.retry, "system busy, try again later"),
        28_001_006: Row(.retry, "network call failed, try again"),
        28_001_007: Row(.permanent, "a parameter is not valid"),
        28_001_008: Row(.refreshToken, "access_token expired: refresh it or authorize again"),
        28_001_012: Row(.reauthenticate, "the user has not authorized this OpenAPI"),
        28_001_014: Row(.reauthenticate, "the app is not authorized for any capability"),
        28_001_015: Row(.reauthenticate, "access_token and open_id belong to different users"),
        28_001_016: Row(.permanent, "the app is banned or offline"),
        28_001_018: Row(.reauthenticate, "the app has not been granted this capability"),
        28_001_019: Row(.permanent, "this capability is banned or offline"),
        28_001_020: Row(.reauthenticate, "the user is not bound to this test app"),
        28_001_021: Row(.reauthenticate, "the test app has expired"),
        28_001_045: Row(.permanent, "the user has deleted their account"),
        28_001_046: Row(.permanent, "the user is banned"),
        28_001_052: Row(.throttled, "risk control: call less often"),
        28_003_017: Row(.quota, "the quota is used up"),
        28_003_018: Row(.throttled, "requests too frequent"),
        10_005: Row(.permanent, "a parameter is missing"),
        10_010: Row(.reauthenticate, "refresh_token expired: the user must authorize again"),
        10_020: Row(.reauthenticate, "refresh_token renewed the most times allowed: the user must authorize again")
    ])

    func row(_ code: Int) -> Row? { codes[code] }

    /// The token endpoints' codes that mean the grant is gone (the descriptor's `deadGrantErrors`).
    var deadGrants: Set<String> { Set(codes.filter { $0.key < 100_000 && $0.value.action == .reauthenticate }.map { String($0.key) }) }

    /// Whether this reply refuses the access token itself (refreshed once and repeated, as a 401 is).
    static func refusesToken(_ r: AuthorizedHTTP.Reply) -> Bool {
        guard let code = DouyinWire.errorCode(r) else { return false }
        return douyin.row(code)?.action == .refreshToken
    }
}
