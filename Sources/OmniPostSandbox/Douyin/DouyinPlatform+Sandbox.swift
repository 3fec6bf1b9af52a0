import OmniPostPlatforms

/// Douyin's side of the sandbox, found from the registry's line: its routes.
extension DouyinPlatform: SandboxedPlatform {
    static var sandboxes: [any SandboxPlatform.Type] { [DouyinRoutes.self, DouyinCreatorRoutes.self] }
}
