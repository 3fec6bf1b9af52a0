import OmniPostPlatforms

/// Kuaishou's side of the sandbox, found from the registry's line: its routes.
extension KuaishouPlatform: SandboxedPlatform {
    static var sandboxes: [any SandboxPlatform.Type] { [KuaishouRoutes.self, KuaishouCreatorRoutes.self] }
}
