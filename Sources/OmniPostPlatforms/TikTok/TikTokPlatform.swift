import Foundation
import NIOCore
import OmniPostCore

/// TikTok as a unit. TikTok names the client `client_key` and rotates refresh tokens.
package enum TikTokPlatform: PlatformModule {
    package static let descriptor: PlatformDescriptor = {
        var d = PlatformDescriptor(
            name: "tiktok", displayName: "TikTok", apiRoot: "https://open.tiktokapis.com",
            oauth: {
                var o = PlatformDescriptor.OAuth(
                    authorizeURL: "https://www.tiktok.com/v2/auth/authorize/", tokenURL: "https://open.tiktokapis.com/v2/oauth/token/",
                    scopes: ["user.info.basic", "video.publish", "video.upload", "video.list"], clientIDField: "client_key", rotatesRefreshTokens: true)
                o.scopeSeparator = ","
                return o
            }(),
            sandboxTokenPath: "/v2/oauth/token/",
            accountFields: ["client_id (TikTok's client key)", "client_secret", "refresh_token"],
            capabilities: .init(
                upload: "FILE_UPLOAD chunks in order (5–64 MB); resumes from `uploaded_bytes`", nativeScheduling: false,
                covers: "frame time (`video_cover_timestamp_ms`)", reconcile: "`status/fetch` on the publish id",
                quotas: "15 posts/24 h; 6 inits/min per token"),
            facts: PlatformFacts(
                platform: "tiktok", displayName: "TikTok",
                privacy: [.public: "PUBLIC_TO_EVERYONE", .followers: "FOLLOWER_OF_CREATOR", .friends: "MUTUAL_FOLLOW_FRIENDS", .private: "SELF_ONLY"],
                privacyOption: "privacy_level",
                options: ["disable_duet", "disable_stitch", "disable_comment", "brand_content_toggle", "brand_organic_toggle", "is_aigc"].map { .init($0, .bool) }
                    + [.init("privacy_level", .oneOf(["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]))]
                    // `inbox`: Upload (a draft the creator finishes in the app; scope video.upload) instead of Direct Post.
                    + [.init("post_mode", .oneOf(["direct", "inbox"]))]),
            // The Media Transfer Guide: chunks of 5–64 MB (a file under 5 MiB goes whole), at most 1,000 of them.
            parts: PartSizes(min: 5 * 1_048_576, max: 64_000_000, maxCount: 1000),
            // status/fetch allows 30 requests a minute per access token (TikTok's rate-limit table): never
            // faster than every 2 s, growing to 10 s while a long video processes.
            statusPolling: PollPolicy(first: .seconds(2), max: .seconds(10), factor: 1.5, perMinute: 30))
        // `audited: false`: the app has not passed TikTok's audit, so it may post SELF_ONLY only.
        d.settings = ["audited"]
        // video/query: 20 video ids a call.
        d.readBack = .reads(batch: 20, cost: 0)
        return d
    }()

    /// The sandbox's TikTok, told whether the account's app is audited (it then refuses what TikTok refuses).
    package static func useSandbox(_ account: inout AccountConfig, base: String, root: URL) -> [SandboxGrant] {
        pointAtSandbox(&account, base: base)
        return [.settings(["audited"], of: account)]
    }

    package static func validate(_ account: AccountConfig, sandboxed: Bool) throws {
        _ = try account.setting("audited")?.bool()
    }

    package static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        TikTokAdapter(settings)
    }

    package static func whoAmI(_ settings: AdapterSettings) async throws -> AccountIdentity? {
        let r = try await settings.api.send(url: settings.account.endpoint + "/v2/user/info/?fields=open_id,display_name", method: .GET, headers: [], body: ByteBuffer())
        struct UserInfo: Decodable {
            struct Data: Decodable { var user: User }
            struct User: Decodable {
                var open_id: String
                var display_name: String?
            }
            var data: Data
        }
        guard r.status == 200, let u = r.decoded(UserInfo.self)?.data.user else {
            throw DeliveryError(r.status == 401 ? .reauthenticate : .retryNow, .authRevoked, "TikTok answered \(r.status) when asked who the token is", httpStatus: r.status)
        }
        return AccountIdentity(id: u.open_id, name: u.display_name ?? u.open_id)
    }
}
