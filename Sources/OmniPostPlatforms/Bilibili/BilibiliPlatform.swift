import Foundation
import NIOCore
import OmniPostCore

/// Bilibili's open platform as a unit (member.bilibili.com/arcopen, "视频稿件投递"; the open platform's
/// documentation as its apifox mirror keeps it). Every request names the app (`client_id`) and carries
/// the user's token as the `access_token` query parameter; the file's parts go to the upload host
/// (`openupos.bilivideo.com`, the account's `upload_endpoint`) under the upload token alone. Tokens come
/// from `api.bilibili.com/x/account-oauth2/v1/token` (the code) and `…/refresh_token` (a refresh, which
/// hands out a new refresh token: the newest is stored).
package enum BilibiliPlatform: PlatformModule {
    static let mib: Int64 = 1_048_576
    /// Where parts go unless the account names another host.
    static let uploadHost = "https://openupos.bilivideo.com"

    package static let descriptor: PlatformDescriptor = {
        var oauth = PlatformDescriptor.OAuth(
            authorizeURL: "https://account.bilibili.com/pc/account-pc/auth/oauth",
            tokenURL: "https://api.bilibili.com/x/account-oauth2/v1/token", scopes: ["USER_INFO", "ATC_BASE"], rotatesRefreshTokens: true)
        oauth.scopeSeparator = ","
        oauth.refreshPath = "refresh_token"
        // A refresh token Bilibili does not know (or no longer) is answered -101, "not logged in".
        oauth.deadGrantErrors = ["-101"]
        // The data service's permission (数据开放服务), asked beside the archive's: a grant without it still posts.
        oauth.insightsScopes = ["ARC_DATA"]
        var d = PlatformDescriptor(
            name: "bilibili", displayName: "Bilibili", apiRoot: "https://member.bilibili.com", oauth: oauth,
            sandboxTokenPath: "/x/account-oauth2/v1/token",
            accountFields: ["client_id", "client_secret", "refresh_token", "tid (the default category)"],
            capabilities: .init(
                upload: "one request up to 100 MB (utype 1); above it numbered parts of the part size (8 MB recommended) to the upload host, then complete",
                nativeScheduling: false, covers: "image (`cover/upload`; a frame OmniPost takes when the drop has none)",
                reconcile: "the account's archives (`viewlist`), by the title and the time of the submit",
                quotas: "a new member submits 5 a day; -412/-509 wait a minute"),
            facts: PlatformFacts(
                platform: "bilibili", displayName: "Bilibili", privacy: [.public: "public"],
                privacyNote: "an archive is public once Bilibili's review passes",
                options: [
                    .init("tid", .integer), .init("copyright", .oneOf(["1", "2"])), .init("source"), .init("no_reprint", .bool)
                ],
                required: ["tid"]),
            // "视频分片大小建议固定为8MB,最后一个分片除外": the part size is fixed but the last; 100 MB goes in one request.
            parts: PartSizes(min: 1 * mib, max: 100 * mib))
        d.tokenHeader = .query("access_token")
        d.tokenRefused = { BilibiliErrors.refusesToken($0) }
        d.needsPoster = true
        d.settings = ["tid", "upload_endpoint"]
        // An archive's views, likes, replies and danmaku, favorites and shares, one call per archive.
        d.insights = Insights(api: "data/arc/stat", permission: "ARC_DATA", gives: ["views", "likes", "comments", "shares", "saves"])
        return d
    }()

    package static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        BilibiliAdapter(settings)
    }

    /// The sandbox's Bilibili: the API, its token endpoint and the upload host are all the sandbox.
    package static func useSandbox(_ account: inout AccountConfig, base: String, root: URL) -> [SandboxGrant] {
        account.endpoint = base
        account.tokenURL = base + descriptor.sandboxTokenPath
        account.authorizeURL = base + "/sandbox/oauth/bilibili/authorize"
        account.fillIn("upload_endpoint", base)
        // The sandbox's default category (日常), as an account of ours would name its own.
        account.fillIn("tid", "21")
        return []
    }

    package static func whoAmI(_ settings: AdapterSettings) async throws -> AccountIdentity? {
        let r = try await settings.api.send(
            url: settings.account.endpoint + "/arcopen/fn/user/account/info?" + TokenProvider.form([("client_id", settings.account.clientID)]),
            method: .GET, headers: [], body: ByteBuffer())
        let u = try BilibiliAdapter.envelope(r, BilibiliWire.User.self, during: "asking who the token is")
        return AccountIdentity(id: u.openid ?? "", name: u.name ?? u.openid ?? "")
    }
}
