import OmniPostCore

/// Threads as a unit: the Graph API on graph.threads.net (version v1.0), long-lived tokens refreshed by
/// `th_refresh_token`, and media fetched by Threads from the pipeline's `media_host:`.
public enum ThreadsPlatform: PlatformModule {
    public static let descriptor: PlatformDescriptor = {
        var d = PlatformDescriptor(
        name: "threads", displayName: "Threads", apiRoot: "https://graph.threads.net",
        oauth: .init(authorizeURL: "https://threads.net/oauth/authorize", tokenURL: "https://graph.threads.net/refresh_access_token",
                     scopes: ["threads_basic", "threads_content_publish"], rotatesRefreshTokens: true, refreshStyle: .threadsRefresh),
        sandboxTokenPath: "/refresh_access_token",
        accountFields: ["refresh_token (a long-lived Threads token)", "id (the Threads user id; default: the token's user)", "media_host: in the pipeline"],
        capabilities: .init(
            upload: "rendition PUT to `media_host:` (S3, SigV4), Threads fetches a presigned link that expires",
            nativeScheduling: false, covers: "none",
            reconcile: "the container's `status` (PUBLISHED)",
            quotas: "250 posts/24 h (`threads_publishing_limit`, read at run time and held to by the queue gate)"))
        d.needsMediaHost = true
        return d
    }()

    public static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        ThreadsAdapter(settings)
    }
}
