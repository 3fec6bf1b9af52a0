import Foundation
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
        return .upgrade([:]) { inbound, outbound, _ in
            // The handler ends whichever comes first: the result sent (then our close frame, which the
            // client answers), or the client gone (its close frame, or the connection dropped) — so a
            // sandbox stopping never waits on a socket whose post is never decided.
            let listener = UUID()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    guard let message = await state.redditResult(asset, listener: listener) else { return }
                    try await outbound.write(.text(message))
                    try await outbound.close(.normalClosure, reason: nil)
                }
                // A Reddit client sends nothing: the stream ends with the client's close frame, the connection
                // dropping, or the sandbox stopping — each the socket gone, and the wait for a result with it.
                do { for try await _ in inbound {} } catch {}
                await state.stopListening(asset, listener: listener)
                try await group.waitForAll()
            }
        }
    }
}
