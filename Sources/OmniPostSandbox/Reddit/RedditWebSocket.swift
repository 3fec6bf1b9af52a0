import HummingbirdWebSocket

/// Reddit's submit names one WebSocket per media asset: it sends one message once the post is decided
/// (`success` with the post's address, or `failed`). A client that connects after that still gets it
/// (PRAW connects only after its submit returns).
extension RedditRoutes {
    static let webSocketPrefix = "/reddit-ws/"

    static func webSocket(path: String, state: SandboxState) async -> SandboxWebSockets.Upgrade? {
        guard path.hasPrefix(webSocketPrefix) else { return nil }
        let asset = String(path.dropFirst(webSocketPrefix.count))
        guard await state.redditSocketKnown(asset) else { return .dontUpgrade }
        await state.count("reddit.websocket")
        return .upgrade([:]) { _, outbound, _ in
            let message = await state.redditResult(asset)
            try await outbound.write(.text(message))
        }
    }
}
