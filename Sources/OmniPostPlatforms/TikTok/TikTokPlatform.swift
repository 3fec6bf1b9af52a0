import OmniPostCore

/// TikTok as a unit. TikTok names the client `client_key` and rotates refresh tokens.
public enum TikTokPlatform: PlatformModule {
    public static let descriptor = PlatformDescriptor(
        name: "tiktok", displayName: "TikTok", apiRoot: "https://open.tiktokapis.com",
        oauth: .init(authorizeURL: "https://www.tiktok.com/v2/auth/authorize/", tokenURL: "https://open.tiktokapis.com/v2/oauth/token/",
                     scopes: ["user.info.basic", "video.publish"], clientIDField: "client_key", rotatesRefreshTokens: true),
        sandboxTokenPath: "/v2/oauth/token/",
        accountFields: ["client_id (TikTok's client key)", "client_secret", "refresh_token"],
        capabilities: .init(
            upload: "FILE_UPLOAD chunks in order (5–64 MB); resumes from `uploaded_bytes`", nativeScheduling: false,
            covers: "frame time (`video_cover_timestamp_ms`)", reconcile: "`status/fetch` on the publish id",
            quotas: "15 posts/24 h; 6 inits/min per token"))

    public static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        TikTokAdapter(settings)
    }
}
