import OmniPostPlatforms

/// Instagram's side of the sandbox, found from the registry's line: the Graph API both Meta platforms share, then its own routes.
extension InstagramPlatform: SandboxedPlatform {
    static var sandboxes: [any SandboxPlatform.Type] { [GraphRoutes.self, InstagramRoutes.self, GraphInsightsRoutes.self] }
}
