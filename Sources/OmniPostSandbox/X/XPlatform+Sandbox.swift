import OmniPostPlatforms

/// X's side of the sandbox, found from the registry's line: its routes.
extension XPlatform: SandboxedPlatform {
    static var sandboxes: [any SandboxPlatform.Type] { [XRoutes.self] }
}
