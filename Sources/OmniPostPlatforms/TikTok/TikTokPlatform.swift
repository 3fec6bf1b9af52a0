import OmniPostCore

/// TikTok as a unit. TikTok names the client `client_key` and rotates refresh tokens.
public enum TikTokPlatform: PlatformModule {
    public static let descriptor = PlatformDescriptor(
        name: "tiktok", displayName: "TikTok", apiRoot: "https://open.tiktokapis.com",
        oauth: .init(authorizeURL: "https://www.tiktok.com/v2/auth/authorize/", tokenURL: "https://open.tiktokapis.com/v2/oauth/token/",
                     scopes: ["user.info.basic", "video.publish"], clientIDField: "client_key", rotatesRefreshTokens: true),
        sandboxTokenPath: "/v2/oauth/token/",
        accountFields: ["client_id (TikTok's client key)", "client_secret", "refresh_token"])

    public static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        TikTokAdapter(settings)
    }
}
