import OmniPostCore

/// Facebook Page Reels as a unit. Tokens are Meta's: the account's `refresh_token` is a long-lived user
/// token (exchanged for a new one as it ages), from which the Page's own token is read per upload.
public enum FacebookPlatform: PlatformModule {
    public static let descriptor = PlatformDescriptor(
        name: "facebook", displayName: "Facebook Page Reels", apiRoot: "https://graph.facebook.com",
        oauth: .init(authorizeURL: "https://www.facebook.com/dialog/oauth", tokenURL: "https://graph.facebook.com/oauth/access_token",
                     scopes: ["pages_show_list", "pages_read_engagement", "pages_manage_posts"],
                     rotatesRefreshTokens: true, refreshStyle: .metaExchange),
        sandboxTokenPath: "/oauth/access_token", defaultProfile: "facebook_reels",
        accountFields: ["client_id (app id)", "client_secret (app secret)", "refresh_token (a long-lived user token)", "id (the Page id; default: the user's first Page)"],
        capabilities: .init(
            upload: "`video_reels` start → rupload with `offset`/`file_size`, resumed from `bytes_transferred` → finish",
            nativeScheduling: true, covers: "none",
            reconcile: "the video's `status` (`publishing_phase`)",
            quotas: "30 API reels/24 h per Page"))

    public static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        FacebookAdapter(settings)
    }
}
