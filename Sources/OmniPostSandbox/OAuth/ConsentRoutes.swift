import Foundation
import HTTPTypes
import Hummingbird

/// Each platform's consent page, as the sandbox plays it (`/sandbox/oauth/<platform>/authorize`):
/// it consents at once as the test set it up (`setConsent`) and sends the browser back to the
/// loopback redirect with `code` and `state` — or `error=access_denied`. And the code grant every
/// platform's token endpoint takes besides its refresh (`codeGrant`).
enum ConsentRoutes {
    static func add(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.get("/sandbox/oauth/:platform/authorize") { req, ctx -> Response in
            let platform = ctx.parameters.get("platform") ?? ""
            await state.count("oauth.authorize")
            func q(_ n: String) -> String { SandboxHTTP.query(req, n) ?? "" }
            let redirect = q("redirect_uri")
            guard let r = URLComponents(string: redirect), r.scheme == "http", ["127.0.0.1", "localhost", "[::1]"].contains(r.host ?? "") else {
                return Response(
                    status: .badRequest, headers: [.contentType: "text/plain"],
                    body: .init(byteBuffer: .init(string: "redirect_uri must be a loopback address (RFC 8252)\n")))
            }
            guard q("response_type") == "code" else { return back(redirect, ["error": "unsupported_response_type", "state": q("state")]) }
            let client = q(SandboxPlatforms.named(platform)?.clientIDParameter ?? "client_id")
            switch await state.authorize(
                platform: platform, clientID: client, redirect: redirect, scope: q("scope"),
                challenge: q("code_challenge"), method: q("code_challenge_method"))
            {
            case .code(let code): return back(redirect, ["code": code, "state": q("state")])
            case .denied: return back(redirect, ["error": "access_denied", "error_description": "The user denied access", "state": q("state")])
            case .invalidClient:
                return Response(status: .badRequest, headers: [.contentType: "text/plain"], body: .init(byteBuffer: .init(string: "invalid_client: unknown client id\n")))
            case .invalidRequest(let why): return back(redirect, ["error": "invalid_request", "error_description": why, "state": q("state")])
            }
        }
    }

    static func back(_ redirect: String, _ params: [String: String]) -> Response {
        var c = URLComponents(string: redirect)!
        c.queryItems = params.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        return Response(status: .found, headers: [.location: c.string ?? redirect])
    }

    /// The answer to `grant_type=authorization_code` at a platform's token endpoint; nil for any other grant.
    static func codeGrant(
        _ form: [String: String], clientID: String, secret: String, state: SandboxState, scopeSeparator: String = " ",
        errorsInside200: Bool = false, extra: [String: Any] = [:], shortLived: Bool = false, lasting: Bool = false
    ) async -> Response? {
        guard form["grant_type"] == "authorization_code" || (shortLived && form["code"] != nil) else { return nil }
        await state.count("oauth.code")
        switch await state.redeem(
            code: form["code"] ?? "", clientID: clientID, clientSecret: secret, redirect: form["redirect_uri"] ?? "",
            verifier: form["code_verifier"] ?? "", shortLived: shortLived)
        {
        case .ok(let access, let refresh, let expires, let scopes, let user):
            if lasting {
                // Vimeo: one token that does not expire, and no refresh token.
                await state.registerStaticToken(access, account: "\(form["platform"] ?? "vimeo"):\(user)")
                return SandboxHTTP.json(
                    .ok,
                    [
                        "access_token": access, "token_type": "bearer", "scope": scopes.joined(separator: scopeSeparator),
                        "user": ["uri": "/users/" + SandboxState.randomID(9, alphabet: "0123456789"), "name": user]
                    ])
            }
            // Meta and Threads hand out one short-lived token: no refresh token, no scope list.
            var body: [String: Any] =
                shortLived
                ? ["access_token": access, "token_type": "bearer", "expires_in": 3600]
                : ["access_token": access, "refresh_token": refresh, "expires_in": expires, "token_type": "Bearer", "scope": scopes.joined(separator: scopeSeparator)]
            for (k, v) in extra { body[k] = v }
            return SandboxHTTP.json(.ok, body)
        case .invalidClient:
            return SandboxHTTP.json(.unauthorized, ["error": "invalid_client", "error_description": "Client authentication failed."])
        case .invalidGrant(let why):
            return SandboxHTTP.json(errorsInside200 ? .ok : .badRequest, ["error": "invalid_grant", "error_description": why])
        }
    }
}
