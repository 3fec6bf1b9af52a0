import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore

/// The Graph API that Instagram and Facebook share: errors (`{"error": {message, type, code,
/// error_subcode, is_transient, fbtrace_id}}`), how a call names its token, any `vN.M` version in the
/// path, Meta's token exchange (`/oauth/access_token?grant_type=fb_exchange_token`), `/me`, and reading
/// an object by id (a container, a reel, a Page, a video), dispatched to the platform it belongs to.
enum GraphRoutes: SandboxPlatform {
    /// The Graph API the Meta platforms share (their own routes are Instagram's, Facebook's, Threads').
    static let name = "meta"

    /// An injected failure as the Graph API answers it: a 5xx is its transient code 2 ("retry your request
    /// later"); any other status is a refusal of the request itself, code 100 (invalid parameter).
    static func injected(_ status: Int) -> Response {
        status >= 500
            ? graphError(status, "An unexpected error has occurred. Please retry your request later.", code: 2, transient: true)
            : graphError(status, "(#100) Invalid parameter", code: 100)
    }

    static func graphError(
        _ status: Int, _ message: String, code: Int, subcode: Int? = nil, type: String = "OAuthException",
        transient: Bool = false, headers: HTTPFields = [:]
    ) -> Response {
        var e: [String: Any] = ["message": message, "type": type, "code": code, "is_transient": transient, "fbtrace_id": SandboxState.randomID(11)]
        if let subcode { e["error_subcode"] = subcode }
        return SandboxHTTP.json(.init(code: status), ["error": e], headers: headers)
    }

    static let badToken = graphError(
        400, "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.",
        code: 190, subcode: 460)

    static func validVersion(_ v: String?) -> Bool {
        guard let v, v.hasPrefix("v") else { return false }
        let parts = v.dropFirst().split(separator: ".")
        return parts.count == 2 && parts.allSatisfy { Int($0) != nil }
    }

    /// The account behind a Graph call: `Authorization: Bearer|OAuth <token>` or an `access_token` parameter
    /// (a Page token counts as its Page's account).
    static func account(_ req: Request, _ params: [String: String], _ state: SandboxState, platform: String? = nil) async -> String? {
        var token = params["access_token"]
        if let h = SandboxHTTP.header(req, "Authorization") {
            for scheme in ["Bearer ", "OAuth "] where h.hasPrefix(scheme) { token = String(h.dropFirst(scheme.count)) }
        }
        guard let token, let a = await state.account(forBearer: "Bearer " + token) else { return nil }
        if let platform { return a.hasPrefix(platform + ":") ? a : nil }
        return a.hasPrefix("instagram:") || a.hasPrefix("facebook:") || a.hasPrefix("threads:") ? a : nil
    }

    /// Query and form parameters together, as the Graph API reads them.
    static func params(_ req: inout Request) async throws -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in req.uri.queryParameters { out[String(k)] = String(v).removingPercentEncoding ?? String(v) }
        let body = try await req.collectBody(upTo: 1 << 20)
        for (k, v) in SandboxHTTP.form(body) { out[k] = v }
        return out
    }

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        GraphCommentRoutes.add(to: router, state: state)
        router.get("/oauth/access_token") { req, _ -> Response in
            await state.count("meta.token")
            var req = req
            let p = try await params(&req)
            // The code of a Facebook Login: a short-lived user token.
            if let r = await ConsentRoutes.codeGrant(p, clientID: p["client_id"] ?? "", secret: p["client_secret"] ?? "", state: state, shortLived: true) { return r }
            guard p["grant_type"] == "fb_exchange_token", let old = p["fb_exchange_token"] else {
                return graphError(400, "Missing fb_exchange_token or grant_type=fb_exchange_token", code: 100)
            }
            await state.tokenDelay()
            switch await state.metaExchange(clientID: p["client_id"] ?? "", clientSecret: p["client_secret"] ?? "", token: old) {
            case .ok(let token, let expires):
                return SandboxHTTP.json(.ok, ["access_token": token, "token_type": "bearer", "expires_in": expires])
            case .invalidClient:
                return graphError(400, "Error validating client secret.", code: 1, type: "OAuthException")
            case .invalidGrant:
                return badToken
            }
        }
        router.get("/:version/me") { req, ctx -> Response in
            guard validVersion(ctx.parameters.get("version")) else { return graphError(400, "Unknown path components", code: 2500) }
            var req = req
            let p = try await params(&req)
            guard let account = await account(req, p, state) else { return badToken }
            if account.hasPrefix("threads:") {
                return SandboxHTTP.json(.ok, ["id": await ThreadsRoutes.userID(account, state), "username": String(account.dropFirst("threads:".count))])
            }
            if account.hasPrefix("facebook:") {
                return SandboxHTTP.json(.ok, ["id": await state.userID(account, length: 16, alphabet: "0123456789"), "name": String(account.dropFirst("facebook:".count))])
            }
            return SandboxHTTP.json(.ok, ["id": await InstagramRoutes.igUserID(account, state), "username": String(account.dropFirst("instagram:".count))])
        }
        router.get("/:version/me/accounts") { req, ctx -> Response in
            guard validVersion(ctx.parameters.get("version")) else { return graphError(400, "Unknown path components", code: 2500) }
            var req = req
            let p = try await params(&req)
            guard let account = await account(req, p, state), !account.hasPrefix("threads:") else { return badToken }
            // An Instagram professional account is reached through the Page it is linked to.
            if account.hasPrefix("instagram:") {
                return SandboxHTTP.json(
                    .ok,
                    [
                        "data": [
                            [
                                "id": await state.userID(account + "|page", length: 16, alphabet: "0123456789"), "name": "Linked Page",
                                "instagram_business_account": [
                                    "id": await InstagramRoutes.igUserID(account, state),
                                    "username": String(account.dropFirst("instagram:".count))
                                ]
                            ]
                        ]
                    ])
            }
            let page = await FacebookRoutes.page(of: account, state: state)
            return SandboxHTTP.json(
                .ok,
                [
                    "data": [
                        [
                            "id": page.id, "name": page.name, "access_token": page.token, "category": "Media",
                            "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"]
                        ]
                    ]
                ])
        }
        router.get("/:version/:id") { req, ctx -> Response in
            guard validVersion(ctx.parameters.get("version")) else { return graphError(400, "Unknown path components", code: 2500) }
            var req = req
            let p = try await params(&req)
            guard let account = await account(req, p, state) else { return badToken }
            let id = ctx.parameters.get("id") ?? ""
            if account.hasPrefix("threads:") { return await ThreadsRoutes.object(id, account: account, state: state, baseURL: baseURL()) }
            if account.hasPrefix("facebook:") { return await FacebookRoutes.object(id, fields: p["fields"] ?? "", account: account, state: state) }
            if let c = await state.igContainer(id), c.account == account {
                var body: [String: Any] = ["id": c.id, "status_code": c.statusCode]
                switch c.statusCode {
                // A failure given as one of Instagram's documented codes reads as Instagram writes it.
                case "ERROR": body["status"] = Int(c.failure ?? "") != nil ? "Error: Media upload has failed with error code \(c.failure ?? "")" : "Error: \(c.failure ?? "")"
                case "FINISHED", "PUBLISHED": body["status"] = "Finished: Media has been uploaded and it is ready to be published."
                case "EXPIRED": body["status"] = "Expired: the container was not published within 24 hours."
                default: body["status"] = "In Progress: Media is still being processed."
                }
                return SandboxHTTP.json(.ok, body)
            }
            if let v = await state.allVideos().first(where: { $0.platform == "instagram" && $0.id == id && $0.account == account }),
                let media = await InstagramRoutes.media(v, fields: p["fields"] ?? "", state: state, baseURL: baseURL())
            {
                return SandboxHTTP.json(.ok, media)
            }
            return graphError(
                400, "Unsupported get request. Object with ID '\(id)' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", code: 100,
                subcode: 33)
        }
    }
}
