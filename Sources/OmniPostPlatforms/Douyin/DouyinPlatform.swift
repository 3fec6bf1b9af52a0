import Foundation
import NIOCore
import OmniPostCore

/// Douyin Open Platform as a unit (developer.open-douyin.com, "内容能力 › 视频发布"; request and reply
/// shapes as the SKIT.FlurlHttpClient.ByteDance DouyinOpen client sends and reads them). The client is
/// named `client_key`; requests carry the token in an `access-token` header and the user's `open_id` in
/// the query; failures come back as HTTP 200 with `data.error_code` (`DouyinErrors`).
///
/// Tokens: the code is exchanged at `/oauth/access_token/` (a JSON body); the access token lives 15 days
/// and is refreshed at `/oauth/refresh_token/` (client_key only), which leaves the refresh token's own
/// 30 days unchanged; that one is renewed at `/oauth/renew_refresh_token/` (30 days more, the old one dies,
/// at most five times — then a person authorizes again). It is renewed at a refresh that finds less than
/// 16 days left: refreshes come at least every 15 days while the account posts, so a renewal always falls
/// before the end.
package enum DouyinPlatform: PlatformModule {
    static let mib: Int64 = 1_048_576

    package static let descriptor: PlatformDescriptor = {
        var oauth = PlatformDescriptor.OAuth(
            authorizeURL: "https://open.douyin.com/platform/oauth/connect/", tokenURL: "https://open.douyin.com/oauth/access_token/",
            scopes: ["user_info", "video.create.bind", "video.list.bind"], clientIDField: "client_key")
        oauth.scopeSeparator = ","
        oauth.codeGrant = .json
        oauth.refreshPath = "../refresh_token/"
        oauth.refreshSendsSecret = false
        oauth.renewPath = "../renew_refresh_token/"
        oauth.renewWithin = 16 * 86400
        oauth.deadGrantErrors = DouyinErrors.deadGrants
        var d = PlatformDescriptor(
            name: "douyin", displayName: "Douyin", apiRoot: "https://open.douyin.com", oauth: oauth,
            // The sandbox serves Douyin's OAuth under /douyin: Meta's and Threads' sandboxes have /oauth/access_token.
            sandboxTokenPath: "/douyin/oauth/access_token/",
            accountFields: ["client_id (Douyin's client_key)", "client_secret", "refresh_token", "id (the account's open_id)"],
            capabilities: .init(
                upload: "one request up to the part size; above it numbered parts of 5–128 MB (20 MB recommended); resumes at the next unconfirmed part",
                nativeScheduling: false, covers: "frame time (`cover_tsp`)",
                reconcile: "the account's recent items (`video_list`), by the text and the time of the create",
                quotas: "28003018 (too frequent) waits a minute; 2190001/28003017 (quota) the next day"),
            facts: PlatformFacts(
                platform: "douyin", displayName: "Douyin", privacy: [.public: "public"],
                privacyNote: "a new video is public once Douyin's review passes (until then only its author sees it)",
                options: [.init("at_users", .list(max: 10)), .init("poi_id"), .init("micro_app_id")]),
            // 5 MB is the documented least part and 20 MB the recommended one; a part is one request, and
            // one request carries at most 128 MB (the whole-file limit of `upload_video`).
            parts: PartSizes(min: 5 * mib, max: 128_000_000))
        d.tokenHeader = .named("access-token")
        d.tokenRefused = { DouyinErrors.refusesToken($0) }
        d.settings = BrowserFallback.settings
        // video_data: 20 item ids a call.
        d.readBack = .reads(batch: 20, cost: 0)
        return d
    }()

    /// The Open Platform's adapter; an account that says `via: browser` drives creator.douyin.com instead.
    package static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        BrowserFallback.chosen(settings.account) ? RecipeAdapter(settings) : DouyinAdapter(settings)
    }

    /// Every call names the user by `open_id`, which the grant carries (`accounts add` shows it): the
    /// account's `id:`.
    package static func validate(_ account: AccountConfig, sandboxed: Bool) throws {
        try BrowserFallback.validate(account)
        guard !sandboxed, account.accountID.isEmpty, !BrowserFallback.chosen(account) else { return }
        throw OmniError(
            .configInvalid,
            "\(account.key): Douyin names the account by its open_id (the `open_id` of the authorization's token answer): set id: <open_id> under accounts: \(account.key)")
    }

    /// The sandbox's Douyin: endpoints, and the open_id its sandbox gives an account of this name.
    package static func useSandbox(_ account: inout AccountConfig, base: String, root: URL) -> [SandboxGrant] {
        if BrowserFallback.chosen(account) { return BrowserFallback.useSandbox(&account, base: base, path: "/sandbox/douyin-creator", cookie: "sessionid") }
        account.endpoint = base
        account.tokenURL = base + descriptor.sandboxTokenPath
        account.authorizeURL = base + "/sandbox/oauth/douyin/authorize"
        if account.accountID.isEmpty { account.accountID = sandboxOpenID(account.name) }
        return []
    }

    /// The open_id the bundled sandbox gives the account `douyin:<name>`.
    package static func sandboxOpenID(_ name: String) -> String { "sandbox-open-" + name }

    /// `/oauth/userinfo/` (beside the token endpoint): the token and the open_id in a form, the nickname back.
    package static func whoAmI(_ settings: AdapterSettings) async throws -> AccountIdentity? {
        if BrowserFallback.chosen(settings.account) { return try await RecipeAdapter(settings).health() }
        let token = try await settings.tokens.accessToken()
        let form = TokenProvider.form([("access_token", token), ("open_id", settings.account.accountID)])
        let r = try await settings.api.send(
            url: TokenProvider.beside("../userinfo/", of: settings.account.tokenURL), method: .POST,
            headers: [("Content-Type", "application/x-www-form-urlencoded")], body: ByteBuffer(string: form), authorize: false)
        guard let u = r.decoded(DouyinWire.Envelope<DouyinWire.User>.self)?.data, (u.error_code ?? 0) == 0, let id = u.open_id else {
            throw DouyinAdapter.classify(r, during: "asking who the token is")
        }
        return AccountIdentity(id: id, name: u.nickname ?? id)
    }
}
