import Foundation

/// What a Douyin Open Platform error leads to, as data. Douyin answers almost every failure with HTTP
/// 200 and the code in its envelope — `data.error_code` with `data.description`, repeated in
/// `extra.error_code` (with `sub_error_code`) — so the code, not the status, decides. The codes are the
/// status-code table (developer.open-douyin.com/docs/resource/zh-CN/dop/develop/openapi/status-code: the
/// old general codes 2100004–2190016 that the video APIs still answer with, and the new 28001005–28003018),
/// and the token endpoints' 10005–10020 (account-permission/refresh-access-token, refresh-token).
enum DouyinErrors {
    typealias R = ErrorCodeTable.Row

    /// The table as Douyin documents it; a quota's day is China's (UTC+8, no daylight saving).
    static let douyin = ErrorCodeTable(
        codes: [
            2_100_004: R(.retry, "system busy, try again later"),
            2_100_005: R(.permanent, "a parameter is not valid"),
            2_100_007: R(.permanent, "no permission for this operation"),
            2_100_009: R(.permanent, "the user is banned from this operation"),
            2_190_001: R(.quota, "the app's quota is used up"),
            2_190_002: R(.refreshToken, "access_token is invalid"),
            2_190_004: R(.reauthenticate, "the app has not been granted this capability (scope)"),
            2_190_008: R(.refreshToken, "access_token expired: refresh it or authorize again"),
            2_190_015: R(.reauthenticate, "access_token and open_id belong to different users"),
            2_190_016: R(.permanent, "the app is banned or offline"),
            28_001_005: R(.retry, "system busy, try again later"),
            28_001_006: R(.retry, "network call failed, try again"),
            28_001_007: R(.permanent, "a parameter is not valid"),
            28_001_008: R(.refreshToken, "access_token expired: refresh it or authorize again"),
            28_001_012: R(.reauthenticate, "the user has not authorized this OpenAPI"),
            28_001_014: R(.reauthenticate, "the app is not authorized for any capability"),
            28_001_015: R(.reauthenticate, "access_token and open_id belong to different users"),
            28_001_016: R(.permanent, "the app is banned or offline"),
            28_001_018: R(.reauthenticate, "the app has not been granted this capability"),
            28_001_019: R(.permanent, "this capability is banned or offline"),
            28_001_020: R(.reauthenticate, "the user is not bound to this test app"),
            28_001_021: R(.reauthenticate, "the test app has expired"),
            28_001_045: R(.permanent, "the user has deleted their account"),
            28_001_046: R(.permanent, "the user is banned"),
            28_001_052: R(.throttled, "risk control: call less often"),
            28_003_017: R(.quota, "the quota is used up"),
            28_003_018: R(.throttled, "requests too frequent"),
            10_005: R(.permanent, "a parameter is missing"),
            10_010: R(.reauthenticate, "refresh_token expired: the user must authorize again"),
            10_020: R(.reauthenticate, "refresh_token renewed the most times allowed: the user must authorize again")
        ], dayZone: TimeZone(secondsFromGMT: 8 * 3600)!)

    /// The token endpoints' codes that mean the grant is gone (the descriptor's `deadGrantErrors`).
    static var deadGrants: Set<String> {
        Set(douyin.codes.filter { $0.key < 100_000 && $0.value.action == .reauthenticate }.map { String($0.key) })
    }

    /// Whether this reply refuses the access token itself (refreshed once and repeated, as a 401 is).
    static func refusesToken(_ r: AuthorizedHTTP.Reply) -> Bool { douyin.refusesToken(DouyinWire.errorCode(r)) }
}
