import OmniPostPlatforms

/// TikTok's side of the sandbox, found from the registry's line: its routes.
extension TikTokPlatform: SandboxedPlatform {
    static var sandboxes: [any SandboxPlatform.Type] { [TikTokRoutes.self] }
}
