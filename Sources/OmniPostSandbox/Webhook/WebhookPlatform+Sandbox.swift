import OmniPostPlatforms

/// Webhook's side of the sandbox, found from the registry's line: its routes.
extension WebhookPlatform: SandboxedPlatform {
    static var sandboxes: [any SandboxPlatform.Type] { [WebhookRoutes.self] }
}
