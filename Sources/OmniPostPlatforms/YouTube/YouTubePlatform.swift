import OmniPostCore

/// YouTube as a unit: the recipe for a platform. The descriptor says where the API and token endpoint
/// are and how accounts authorize; `makeAdapter` brings the shared settings within YouTube's own rules.
public enum YouTubePlatform: PlatformModule {
    public static let descriptor = PlatformDescriptor(
        name: "youtube", displayName: "YouTube", apiRoot: "https://www.googleapis.com",
        oauth: .init(authorizeURL: "https://accounts.google.com/o/oauth2/v2/auth", tokenURL: "https://oauth2.googleapis.com/token",
                     scopes: ["https://www.googleapis.com/auth/youtube.upload"]),
        sandboxTokenPath: "/token",
        capabilities: .init(
            upload: "resumable, 256 KiB-multiple chunks; resumes from the server's `Range`", nativeScheduling: true,
            covers: "image (`thumbnails.set`)", reconcile: "`bytes */T` status query",
            quotas: "10,000 units/day, 1,600 per insert (Pacific midnight)"))

    public static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        YouTubeAdapter(settings)
    }
}
