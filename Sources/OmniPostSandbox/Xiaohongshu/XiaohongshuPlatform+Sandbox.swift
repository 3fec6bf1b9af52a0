import OmniPostPlatforms

/// Xiaohongshu's side of the sandbox, found from the registry's line: the replica of its creator center.
extension XiaohongshuPlatform: SandboxedPlatform {
    static var sandboxes: [any SandboxPlatform.Type] { [XiaohongshuRoutes.self] }
}
