import Foundation
import Hummingbird

/// OAuth 2 refresh as Google's token endpoint answers it: short-lived bearer tokens from a refresh
/// token; a dead or revoked one is `invalid_grant`.
enum TokenRoutes {
    static func add(to router: Router<BasicRequestContext>, state: SandboxState) {
        // Google's device authorization endpoint (RFC 8628 §3.1).
        router.post("/device/code") { req, _ -> Response in
            await state.count("oauth.device")
            var req = req
            let form = SandboxHTTP.form(try await req.collectBody(upTo: 64 * 1024))
            guard let d = await state.startDevice(platform: "youtube", clientID: form["client_id"] ?? "", scope: form["scope"] ?? "") else {
                return SandboxHTTP.json(.unauthorized, ["error": "invalid_client", "error_description": "The OAuth client was not found."])
            }
            let timing = await (state.deviceInterval, state.deviceLifetime)
            return SandboxHTTP.json(
                .ok,
                [
                    "device_code": d.device, "user_code": d.user, "verification_url": "https://www.google.com/device",
                    "expires_in": timing.1, "interval": timing.0
                ])
        }
        router.post("/token") { req, _ -> Response in
            await state.count("oauth.token")
            var req = req
            let body = try await req.collectBody(upTo: 64 * 1024)
            let form = SandboxHTTP.form(body)
            if let r = await ConsentRoutes.codeGrant(form, clientID: form["client_id"] ?? "", secret: form["client_secret"] ?? "", state: state) { return r }
            if form["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code" {
                await state.count("oauth.device_poll")
                switch await state.pollDevice(form["device_code"] ?? "", clientID: form["client_id"] ?? "", clientSecret: form["client_secret"] ?? "") {
                case .ok(let access, let refresh, let expires, let scopes):
                    return SandboxHTTP.json(
                        .ok, ["access_token": access, "refresh_token": refresh, "expires_in": expires, "token_type": "Bearer", "scope": scopes.joined(separator: " ")])
                // Google answers a pending device 428 and the rest 400/403, each with RFC 8628's error code.
                case .pending: return SandboxHTTP.json(.init(code: 428), ["error": "authorization_pending", "error_description": "Precondition Required"])
                case .slowDown: return SandboxHTTP.json(.forbidden, ["error": "slow_down", "error_description": "Forbidden"])
                case .expired: return SandboxHTTP.json(.badRequest, ["error": "expired_token", "error_description": "Bad Request"])
                case .denied: return SandboxHTTP.json(.forbidden, ["error": "access_denied", "error_description": "Forbidden"])
                case .invalidClient: return SandboxHTTP.json(.unauthorized, ["error": "invalid_client", "error_description": "The OAuth client was not found."])
                case .invalidGrant: return SandboxHTTP.json(.badRequest, ["error": "invalid_grant", "error_description": "Malformed auth code."])
                }
            }
            guard form["grant_type"] == "refresh_token", let rt = form["refresh_token"] else {
                return SandboxHTTP.json(.badRequest, ["error": "unsupported_grant_type", "error_description": "only refresh_token is supported"])
            }
            await state.tokenDelay()
            switch await state.refresh(clientID: form["client_id"] ?? "", clientSecret: form["client_secret"] ?? "", refreshToken: rt) {
            case .ok(let token, let expires):
                return SandboxHTTP.json(
                    .ok,
                    [
                        "access_token": token, "expires_in": expires, "token_type": "Bearer",
                        "scope": "https://www.googleapis.com/auth/youtube.upload"
                    ])
            case .invalidClient:
                return SandboxHTTP.json(.unauthorized, ["error": "invalid_client", "error_description": "The OAuth client was not found."])
            case .invalidGrant:
                return SandboxHTTP.json(.badRequest, ["error": "invalid_grant", "error_description": "Token has been expired or revoked."])
            }
        }
    }
}
