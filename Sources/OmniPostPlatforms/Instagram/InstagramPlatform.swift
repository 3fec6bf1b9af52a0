import OmniPostCore

/// Instagram Reels as a unit. Meta's long-lived tokens are exchanged for new ones, not refreshed with a
/// refresh token: the account's `refresh_token` holds the long-lived token, and each exchange replaces it.
public enum InstagramPlatform: PlatformModule {
    public static let descriptor = PlatformDescriptor(
        name: "instagram", displayName: "Instagram Reels", apiRoot: "https://graph.facebook.com",
        oauth: .init(authorizeURL: "https://www.facebook.com/dialog/oauth", tokenURL: "https://graph.facebook.com/oauth/access_token",
                     scopes: ["instagram_basic", "instagram_content_publish", "pages_show_list", "pages_read_engagement"],
                     rotatesRefreshTokens: true, refreshStyle: .metaExchange),
        sandboxTokenPath: "/oauth/access_token", defaultProfile: "instagram_reels",
        accountFields: ["client_id (app id)", "client_secret (app secret)", "refresh_token (a long-lived user token)", "id (the Instagram user id)"],
        capabilities: .init(
            upload: "REELS container, `upload_type=resumable`; bytes to rupload with `offset`/`file_size`, resumed from the last confirmed chunk",
            nativeScheduling: false, covers: "frame time (`thumb_offset`)",
            reconcile: "the container's `status_code` (PUBLISHED)",
            quotas: "read at run time from `content_publishing_limit` (25/50/100 in different sources; 25 bundled) and held to by the queue gate"))

    public static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        InstagramAdapter(settings)
    }
}
