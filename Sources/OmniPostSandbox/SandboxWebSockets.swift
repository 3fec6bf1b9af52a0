import HTTPTypes
import HummingbirdWebSocket

/// The WebSocket paths the sandbox's platforms hand out: each platform answers for its own paths
/// (`SandboxPlatform.webSocket`); any other path is not upgraded.
enum SandboxWebSockets {
    typealias Upgrade = ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>

    static func upgrade(_ head: HTTPRequest, state: SandboxState) async -> Upgrade {
        let path = String((head.path ?? "").split(separator: "?").first ?? "")
        for p in SandboxPlatforms.all {
            if let answer = await p.webSocket(path: path, state: state) { return answer }
        }
        return .dontUpgrade
    }
}
