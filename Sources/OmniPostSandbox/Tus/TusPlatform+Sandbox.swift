import OmniPostPlatforms

/// Tus's side of the sandbox, found from the registry's line: its routes.
extension TusPlatform: SandboxedPlatform {
    static var sandboxes: [any SandboxPlatform.Type] { [TusRoutes.self] }
}
