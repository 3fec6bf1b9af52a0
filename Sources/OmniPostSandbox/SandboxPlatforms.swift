import Hummingbird

/// One platform's side of the sandbox: the routes that speak its documented protocol. Each platform's
/// folder holds one type conforming to this, listed once in `SandboxPlatforms.all`.
protocol SandboxPlatform: Sendable {
    /// `baseURL` is the sandbox's own address once bound (for upload URLs it hands out).
    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String)
}

enum SandboxPlatforms {
    static let all: [any SandboxPlatform.Type] = [
        YouTubeRoutes.self,
        TikTokRoutes.self,
        XRoutes.self,
        LinkedInRoutes.self,
        GraphRoutes.self,
        InstagramRoutes.self,
        FacebookRoutes.self,
        ThreadsRoutes.self,
        S3Routes.self,
        WebhookRoutes.self,
        TusRoutes.self,
        VimeoRoutes.self,
        BlueskyRoutes.self,
        RedditRoutes.self,
    ]
}
