import OmniPostPlatforms

/// Facebook's side of the sandbox, found from the registry's line: the Graph API both Meta platforms share, then its own routes.
extension FacebookPlatform: SandboxedPlatform {
    static var sandboxes: [any SandboxPlatform.Type] { [GraphRoutes.self, FacebookRoutes.self, GraphInsightsRoutes.self] }
}
