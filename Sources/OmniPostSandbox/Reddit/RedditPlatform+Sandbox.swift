import OmniPostPlatforms

/// Reddit's side of the sandbox, found from the registry's line: its routes.
extension RedditPlatform: SandboxedPlatform {
    static var sandboxes: [any SandboxPlatform.Type] { [RedditRoutes.self] }
}
