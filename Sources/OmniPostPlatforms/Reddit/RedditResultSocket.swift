import Foundation
import HummingbirdWSClient
import Logging
import NIOSSL

/// The WebSocket Reddit names for a media asset: it says once how the submitted post ended
/// (`{"type": "success", "payload": {"redirect": …}}` or `{"type": "failed"}`). It is opened before the
/// submit — the lease names it already — so a fast result cannot be missed; if it cannot be opened
/// or says nothing in time, the account's posts are read instead.
actor RedditResultSocket {
    enum Outcome: Sendable, Equatable { case success(redirect: String), failed(String) }

    private var connected = false
    private var ended: String?
    private var message: String?
    private var task: Task<Void, Never>?

    static func open(url: String, tls: TLSConfiguration, within: Duration = .seconds(15)) async -> RedditResultSocket? {
        let s = RedditResultSocket()
        await s.start(url: url, tls: tls)
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            if await s.connected { return s }
            if await s.ended != nil { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        await s.close()
        return nil
    }

    private func start(url: String, tls: TLSConfiguration) {
        var logger = Logger(label: "omnipost.reddit.websocket")
        logger.logLevel = .critical
        task = Task {
            do {
                try await WebSocketClient.connect(url: url, tlsConfiguration: tls, logger: logger) { inbound, _, _ in
                    await self.setConnected()
                    for try await m in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let t) = m { await self.setMessage(t); return }
                    }
                }
                self.end("closed")
            } catch {
                self.end("\(error)")
            }
        }
    }

    private func setConnected() { connected = true }
    private func setMessage(_ t: String) { message = t }
    private func end(_ why: String) { if ended == nil { ended = why } }

    func close() {
        task?.cancel()
        task = nil
    }

    /// The result, once it comes within `within`; nil when the socket closed or stayed silent.
    func outcome(within: Duration) async -> Outcome? {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            if let m = message { return Self.parse(m) }
            if ended != nil { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// What the socket said so far, without waiting.
    func said() -> Outcome? { message.flatMap(Self.parse) }

    static func parse(_ text: String) -> Outcome? {
        guard let j = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else { return nil }
        let payload = j["payload"] as? [String: Any]
        if j["type"] as? String == "failed" {
            return .failed(payload?["message"] as? String ?? "no reason given")
        }
        if let r = payload?["redirect"] as? String { return .success(redirect: r) }
        return nil
    }
}
