import HTTPTypes
import HummingbirdWebSocket

/// The WebSocket paths the sandbox's platforms hand out. Reddit's submit names one per media asset:
/// it sends one message once the post is decided (`success` with the post's address, or `failed`).
/// A client that connects after that still gets it (PRAW connects only after its submit returns).
enum SandboxWebSockets {
    static let redditPrefix = "/reddit-ws/"

    static func upgrade(_ head: HTTPRequest, state: SandboxState) async -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        let path = String((head.path ?? "").split(separator: "?").first ?? "")
        guard path.hasPrefix(redditPrefix) else { return .dontUpgrade }
        let asset = String(path.dropFirst(redditPrefix.count))
        guard await state.redditSocketKnown(asset) else { return .dontUpgrade }
        await state.count("reddit.websocket")
        return .upgrade([:]) { _, outbound, _ in
            let message = await state.redditResult(asset)
            try await outbound.write(.text(message))
        }
    }
}
