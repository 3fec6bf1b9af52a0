import Foundation

/// What a Bilibili answer's `code` leads to, as data. The open platform answers `{"code", "message",
/// "data"}`, a failure as a non-zero `code` — under HTTP 200 as often as not — so the code decides. The
/// codes are Bilibili's general ones, which its open platform's status-code page (其他 › 状态码) builds on:
/// -101 not logged in, -400 a bad request, -403 no access, -404 nothing there, -412 the request was
/// intercepted, -500/-503 the server's trouble, -509 too frequent.
enum BilibiliErrors {
    typealias R = ErrorCodeTable.Row

    static let bilibili = ErrorCodeTable(
        codes: [
            -101: R(.refreshToken, "not logged in: the access token is refused"),
            -400: R(.permanent, "the request is wrong"),
            -403: R(.permanent, "no access"),
            -404: R(.permanent, "nothing there"),
            -412: R(.throttled, "the request was intercepted: call less often"),
            -500: R(.retry, "server error"),
            -503: R(.retry, "server overloaded"),
            -509: R(.throttled, "requests too frequent")
        ])

    /// The answer's code, when it is one of Bilibili's envelopes.
    static func code(_ r: AuthorizedHTTP.Reply) -> Int? { r.decoded(BilibiliWire.Envelope<BilibiliWire.Nothing>.self)?.code }

    /// Whether this reply refuses the access token itself (refreshed once and repeated, as a 401 is).
    static func refusesToken(_ r: AuthorizedHTTP.Reply) -> Bool { bilibili.refusesToken(code(r)) }
}
