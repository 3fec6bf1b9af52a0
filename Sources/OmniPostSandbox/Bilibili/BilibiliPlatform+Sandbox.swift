import OmniPostPlatforms

/// Bilibili's side of the sandbox, found from the registry's line: its routes.
extension BilibiliPlatform: SandboxedPlatform {
    static var sandboxes: [any SandboxPlatform.Type] { [BilibiliRoutes.self] }
}
