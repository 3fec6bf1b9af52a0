import Foundation
import NIOCore
import OmniPostCore

/// Kuaishou's open platform as a unit (open.kuaishou.com; its documentation, 开放能力 › 内容管理 › 创建视频,
/// and 快手登录 › code2AccessToken / refreshToken, as mp.kuaishou.com/platformDocs and its apifox mirror keep
/// them). Every call names the app (`app_id`) and carries the user's token as the `access_token` query
/// parameter; the bytes go to the upload gateway `start_upload` names (`endpoint`) under the upload token
/// alone. Answers are `{"result": 1, …}` on success, another `result` with `error_msg` on failure
/// (`KuaishouErrors`). Tokens: the code and the refresh are GETs with their fields in the query
/// (`app_id`, `app_secret`); the access token lives 48 hours, the refresh token 180 days, and a refresh
/// hands out a new refresh token (the newest is stored).
package enum KuaishouPlatform: PlatformModule {
    static let mib: Int64 = 1_048_576

    package static let descriptor: PlatformDescriptor = {
        var oauth = PlatformDescriptor.OAuth(
            authorizeURL: "https://open.kuaishou.com/oauth2/authorize", tokenURL: "https://open.kuaishou.com/oauth2/access_token",
            scopes: ["user_info", "user_video_publish", "user_video_info"], clientIDField: "app_id", rotatesRefreshTokens: true)
        oauth.scopeSeparator = ","
        oauth.codeGrant = .query
        oauth.secretField = "app_secret"
        oauth.refreshPath = "refresh_token"
        oauth.deadGrantErrors = KuaishouErrors.deadGrants
        var d = PlatformDescriptor(
            name: "kuaishou", displayName: "Kuaishou", apiRoot: "https://open.kuaishou.com", oauth: oauth,
            // The sandbox serves Kuaishou's OAuth under /kuaishou (others have /oauth2/…).
            sandboxTokenPath: "/kuaishou/oauth2/access_token",
            accountFields: ["client_id (Kuaishou's app_id)", "client_secret (app_secret)", "refresh_token"],
            capabilities: .init(
                upload:
                    "one request up to the part size; above it fragments (≤ 10 MB recommended) numbered from 0, then complete; a restart asks the gateway which fragments it holds (resume)",
                nativeScheduling: false, covers: "image (required: the drop's cover, or a frame OmniPost takes)",
                reconcile: "the account's works (`photo/list`), by the caption and the time of the publish",
                quotas: "none documented for publishing; 100200500 and HTTP 5xx are retried"),
            facts: PlatformFacts(
                platform: "kuaishou", displayName: "Kuaishou", privacy: [.public: "public"],
                privacyNote: "a work is public once Kuaishou has processed it (`pending` until then)",
                options: [.init("stereo_type", .oneOf(["NOT_SPHERICAL_VIDEO", "SPHERICAL_VIDEO"]))]),
            // "建议分片大小不大于10M": fragments of at most 10 MB; the least is ours (1 MiB).
            parts: PartSizes(min: 1 * mib, max: 10 * mib))
        d.tokenHeader = .query("access_token")
        d.tokenRefused = { KuaishouErrors.refusesToken($0) }
        d.needsPoster = true
        d.settings = BrowserFallback.settings
        // photo/list: up to 200 works a page, the account's own.
        d.readBack = .reads(batch: 200, cost: 0)
        return d
    }()

    /// The open platform's adapter; an account that says `via: browser` drives cp.kuaishou.com instead.
    package static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        BrowserFallback.chosen(settings.account) ? RecipeAdapter(settings) : KuaishouAdapter(settings)
    }

    package static func validate(_ account: AccountConfig, sandboxed: Bool) throws { try BrowserFallback.validate(account) }

    /// The sandbox's Kuaishou: the API, its token endpoints and the upload gateway are all the sandbox.
    package static func useSandbox(_ account: inout AccountConfig, base: String, root: URL) -> [SandboxGrant] {
        if BrowserFallback.chosen(account) {
            return BrowserFallback.useSandbox(&account, base: base, path: "/sandbox/kuaishou-creator", cookie: "kuaishou.web.cp.api_st")
        }
        account.endpoint = base
        account.tokenURL = base + descriptor.sandboxTokenPath
        account.authorizeURL = base + "/sandbox/oauth/kuaishou/authorize"
        return []
    }

    /// `openapi/user_info`: the user's name (Kuaishou names the user by the grant's `open_id`, which the
    /// user info does not repeat).
    package static func whoAmI(_ settings: AdapterSettings) async throws -> AccountIdentity? {
        if BrowserFallback.chosen(settings.account) { return try await RecipeAdapter(settings).health() }
        let r = try await settings.api.send(
            url: settings.account.endpoint + "/openapi/user_info?" + TokenProvider.form([("app_id", settings.account.clientID)]), method: .GET,
            headers: [], body: ByteBuffer())
        let u = try KuaishouAdapter.answer(r, KuaishouWire.UserInfo.self, during: "asking who the token is")
        let name = u.user_info?.name ?? settings.account.name
        return AccountIdentity(id: settings.account.accountID.isEmpty ? name : settings.account.accountID, name: name)
    }
}
