import Foundation

/// A token endpoint's answer, typed (RFC 6749 §5.1 and §5.2, RFC 8628 §3.2 for the device flow): the
/// tokens and their lifetimes on success; on refusal `error` — a code string, or Meta's Graph error
/// object with its numeric `code` — and `error_description`. Lifetimes are read as numbers or numeric
/// strings, as providers write both.
struct TokenReply: Decodable {
    var access_token: String?
    var refresh_token: String?
    var expires_in: LooseNumber?
    var refresh_expires_in: LooseNumber?
    var refresh_token_expires_in: LooseNumber?
    var scope: String?
    var error: TokenError?
    var error_description: String?
    // The device flow (RFC 8628 §3.2; Google writes `verification_url`).
    var device_code: String?
    var user_code: String?
    var verification_uri: String?
    var verification_url: String?
    var interval: LooseNumber?
    // Douyin's envelope: the fields above sit under `data`, beside `error_code` and `description`
    // (an error is HTTP 200 with a non-zero `error_code`), and the grant names the user (`open_id`).
    var error_code: LooseNumber?
    var description: String?
    var open_id: String?
    // Kuaishou's answers: `result` 1 is success, any other is the error, said in `error_msg`; the
    // granted scopes are a list.
    var result: LooseNumber?
    var error_msg: String?
    var scopes: [String]?

    /// An answer enveloped in `data` (Douyin, Bilibili): its fields, with a non-zero `error_code` inside
    /// it (Douyin) or `code` beside it (Bilibili, with `message`) as the error.
    private struct Enveloped: Decodable {
        var data: TokenReply?
    }
    private struct Coded: Decodable {
        var code: Int?
        var message: String?
    }

    /// OAuth's error code, or Graph's object (`{"type": …, "code": 190, "message": …}`).
    enum TokenError: Decodable {
        case code(String)
        case graph(type: String?, code: Int?, message: String?)

        private struct Graph: Decodable {
            var type: String?
            var code: Int?
            var message: String?
        }

        init(from decoder: any Decoder) throws {
            if let s = try? decoder.singleValueContainer().decode(String.self) {
                self = .code(s)
            } else {
                let g = (try? Graph(from: decoder)) ?? Graph()
                self = .graph(type: g.type, code: g.code, message: g.message)
            }
        }
    }

    /// The OAuth error code, if the answer has one.
    var errorCode: String? { if case .code(let c)? = error { c } else { nil } }

    /// Graph's numeric error code (190: the token is expired, revoked or invalid).
    var graphCode: Int? { if case .graph(_, let code, _)? = error { code } else { nil } }

    /// The refusal in the provider's words: the code, or Graph's `type code: message`; else the HTTP status.
    func refusal(status: Int) -> String {
        switch error {
        case .code(let c)?: c
        case .graph(let type, let code, let message)?: "\(type ?? "error") \(code.map(String.init) ?? ""): \(message ?? "")"
        case nil: "HTTP \(status)"
        }
    }

    /// The body as a token answer; an empty one when it is not JSON (an error page).
    static func read(_ body: Data) -> TokenReply {
        var top = (try? JSONDecoder().decode(TokenReply.self, from: body)) ?? TokenReply()
        if top.error == nil, let result = top.result?.value, result != 1 {
            top.error = .code(String(Int(result)))
            top.error_description = top.error_msg
            return top
        }
        if top.error == nil, let coded = try? JSONDecoder().decode(Coded.self, from: body), let code = coded.code, code != 0 {
            top.error = .code(String(code))
            top.error_description = coded.message
            return top
        }
        guard top.access_token == nil, top.refresh_token == nil, var inner = (try? JSONDecoder().decode(Enveloped.self, from: body))?.data else { return top }
        if let code = inner.error_code?.value, code != 0, inner.error == nil {
            inner.error = .code(String(Int(code)))
            inner.error_description = inner.error_description ?? inner.description
        }
        return inner
    }
}

/// A number a provider writes as a JSON number or as a numeric string (`"expires_in": "3600"`).
struct LooseNumber: Decodable {
    var value: Double

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let d = try? c.decode(Double.self) { value = d; return }
        guard let d = Double(try c.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a number")
        }
        value = d
    }
}
