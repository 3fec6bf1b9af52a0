import Foundation

/// What a Kuaishou answer's `result` leads to, as data. Every answer carries `result` — 1 is success,
/// anything else the failure, said in `error_msg` — under HTTP 200 as often as not, so the code decides.
/// The codes are the open platform's error-code page (其他 › 错误码): OAuth's 100200100–100200500 and the
/// content API's 120001–120003 and 100400.
enum KuaishouErrors {
    typealias R = ErrorCodeTable.Row

    static let kuaishou = ErrorCodeTable(
        codes: [
            100_200_100: R(.permanent, "a parameter is missing or of the wrong type"),
            100_200_101: R(.reauthenticate, "invalid client: the app or its settings (callback, package) are not valid"),
            100_200_102: R(.refreshToken, "the request was refused, as for an invalid token"),
            100_200_103: R(.permanent, "the responseType is wrong"),
            100_200_104: R(.permanent, "the grantType is not supported"),
            100_200_105: R(.reauthenticate, "the code is wrong"),
            100_200_106: R(.reauthenticate, "the scope is wrong"),
            100_200_107: R(.reauthenticate, "invalid openid"),
            100_200_108: R(.refreshToken, "access_token expired"),
            100_200_109: R(.reauthenticate, "the user cancelled the app's authorization"),
            100_200_110: R(.reauthenticate, "the user's authorization expired"),
            100_200_111: R(.reauthenticate, "the user never authorized the app"),
            100_200_112: R(.permanent, "the bundleToken is not valid"),
            100_200_113: R(.reauthenticate, "refresh_token expired"),
            100_200_500: R(.retry, "internal service error"),
            120_001: R(.permanent, "the video does not exist"),
            120_002: R(.permanent, "the video was not uploaded successfully"),
            120_003: R(.retry, "publishing the video failed"),
            100_400: R(.permanent, "a parameter is wrong")
        ], dayZone: TimeZone(secondsFromGMT: 8 * 3600)!)

    /// The token endpoints' codes that mean the grant is gone (the descriptor's `deadGrantErrors`): the
    /// OAuth codes a person must act on, and 100200102, which the refresh answers for a token it refuses.
    static var deadGrants: Set<String> {
        Set(kuaishou.codes.filter { $0.key >= 100_200_100 && $0.value.action == .reauthenticate }.map { String($0.key) } + ["100200102"])
    }

    /// The answer's `result` when it is not success; nil for a success or a body that is not Kuaishou's.
    static func code(_ r: AuthorizedHTTP.Reply) -> Int? {
        guard let result = r.decoded(KuaishouWire.Status.self)?.result, result != 1 else { return nil }
        return result
    }

    /// Whether this reply refuses the access token itself (refreshed once and repeated, as a 401 is).
    static func refusesToken(_ r: AuthorizedHTTP.Reply) -> Bool { kuaishou.refusesToken(code(r)) }
}
