import OmniPostPlatforms

/// Bluesky's side of the sandbox, found from the registry's line: its routes.
extension BlueskyPlatform: SandboxedPlatform {
    static var sandboxes: [any SandboxPlatform.Type] { [BlueskyRoutes.self] }
}
