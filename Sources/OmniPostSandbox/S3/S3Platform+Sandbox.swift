import OmniPostPlatforms

/// S3's side of the sandbox, found from the registry's line: its routes.
extension S3Platform: SandboxedPlatform {
    static var sandboxes: [any SandboxPlatform.Type] { [S3Routes.self] }
}
