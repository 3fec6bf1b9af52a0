import OmniPostPlatforms

/// Threads's side of the sandbox, found from the registry's line: its routes.
extension ThreadsPlatform: SandboxedPlatform {
    static var sandboxes: [any SandboxPlatform.Type] { [ThreadsRoutes.self, GraphInsightsRoutes.self] }
}
