import Foundation
import Hummingbird

/// OAuth 2 refresh as Google's token endpoint answers it: short-lived bearer tokens from a refresh
/// token; a dead or revoked one is `invalid_grant`.
enum TokenRoutes {
    static func add(to router: Router<BasicRequestContext>, state: SandboxState) {
        router.post("/token") { req, _ -> Response in
            await state.count("oauth.token")
            var req = req
            let body = try await req.collectBody(upTo: 64 * 1024)
            let form = SandboxHTTP.form(body)
            if let r = await ConsentRoutes.codeGrant(form, clientID: form["client_id"] ?? "", secret: form["client_secret"] ?? "", state: state) { return r }
            guard form["grant_type"] == "refresh_token", let rt = form["refresh_token"] else {
                return SandboxHTTP.json(.badRequest, ["error": "unsupported_grant_type", "error_description": "only refresh_token is supported"])
            }
            await state.tokenDelay()
            switch await state.refresh(clientID: form["client_id"] ?? "", clientSecret: form["client_secret"] ?? "", refreshToken: rt) {
            case .ok(let token, let expires):
                return SandboxHTTP.json(.ok, [
                    "access_token": token, "expires_in": expires, "token_type": "Bearer",
                    "scope": "https://www.googleapis.com/auth/youtube.upload",
                ])
            case .invalidClient:
                return SandboxHTTP.json(.unauthorized, ["error": "invalid_client", "error_description": "The OAuth client was not found."])
            case .invalidGrant:
                return SandboxHTTP.json(.badRequest, ["error": "invalid_grant", "error_description": "Token has been expired or revoked."])
            }
        }
    }
}
