import OmniPostPlatforms

/// LinkedIn's side of the sandbox, found from the registry's line: its routes.
extension LinkedInPlatform: SandboxedPlatform {
    static var sandboxes: [any SandboxPlatform.Type] { [LinkedInRoutes.self] }
}
