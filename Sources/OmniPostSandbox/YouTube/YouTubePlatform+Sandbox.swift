import OmniPostPlatforms

/// YouTube's side of the sandbox, found from the registry's line: its routes.
extension YouTubePlatform: SandboxedPlatform {
    static var sandboxes: [any SandboxPlatform.Type] { [YouTubeRoutes.self, YouTubeAnalyticsRoutes.self] }
}
