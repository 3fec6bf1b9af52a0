import OmniPostPlatforms

/// Vimeo's side of the sandbox, found from the registry's line: its routes.
extension VimeoPlatform: SandboxedPlatform {
    static var sandboxes: [any SandboxPlatform.Type] { [VimeoRoutes.self] }
}
