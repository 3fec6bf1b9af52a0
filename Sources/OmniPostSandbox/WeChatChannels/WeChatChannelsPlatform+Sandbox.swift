import OmniPostPlatforms

/// WeChat Channels' side of the sandbox, found from the registry's line: its replica's routes.
extension WeChatChannelsPlatform: SandboxedPlatform {
    static var sandboxes: [any SandboxPlatform.Type] { [WeChatChannelsRoutes.self] }
}
