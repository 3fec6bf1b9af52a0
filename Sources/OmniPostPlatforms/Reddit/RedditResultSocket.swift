import Foundation
import HummingbirdWSClient
import Logging
import NIOSSL

/// The WebSocket Reddit names for a media asset: it says once how the submitted post ended
/// (`{"type": "success", "payload": {"redirect": …}}` or `{"type": "failed"}`). It is opened before the
/// submit — the lease names it already — so a fast result cannot be missed; if it cannot be opened
/// or says nothing in time, the account's posts are read instead. It is closed (the close handshake
/// awaited) before the verb that opened it returns: nothing of it outlives the delivery.
actor RedditResultSocket {
    enum Outcome: Sendable, Equatable { case success(redirect: String), failed(String) }

    private var outbound: WebSocketOutboundWriter?
    private var ended: String?
    private var message: String?
    private var task: Task<Void, Never>?

    /// Opens the socket at `url` (none when nil), hands it to `body` — nil when it did not open within
    /// `within` — and closes it whichever way `body` ends.
    static func listening<T>(
        to url: String?, tls: TLSConfiguration, within: Duration = .seconds(15),
        _ body: (RedditResultSocket?) async throws -> T
    ) async throws -> T {
        guard let url else { return try await body(nil) }
        let s = RedditResultSocket()
        await s.start(url: url, tls: tls)
        let open = await s.opened(within: within)
        do {
            let v = try await body(open ? s : nil)
            await s.close()
            return v
        } catch {
            await s.close()
            throw error
        }
    }

    private func opened(within: Duration) async -> Bool {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            if outbound != nil { return true }
            if ended != nil { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    private func start(url: String, tls: TLSConfiguration) {
        var logger = Logger(label: "omnipost.reddit.websocket")
        logger.logLevel = .critical
        task = Task {
            do {
                try await WebSocketClient.connect(url: url, tlsConfiguration: tls, logger: logger) { inbound, outbound, _ in
                    // Closed before it opened: leave at once (the client's close frame follows).
                    guard !Task.isCancelled else { return }
                    await self.setOpen(outbound)
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

    private func setOpen(_ o: WebSocketOutboundWriter) { outbound = o }
    private func setMessage(_ t: String) { message = t }
    private func end(_ why: String) { if ended == nil { ended = why } }

    /// Says goodbye (a close frame, which Reddit answers) and waits until the connection is gone; one
    /// still connecting is cancelled.
    func close() async {
        if let outbound {
            try? await outbound.close(.normalClosure, reason: nil)
        } else {
            task?.cancel()
        }
        await task?.value
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

    /// The one message, typed: `type` and a `payload` with the post's `redirect` or the failure's `message`.
    struct Message: Decodable {
        struct Payload: Decodable {
            var redirect: String?
            var message: String?
        }
        var type: String?
        var payload: Payload?
    }

    static func parse(_ text: String) -> Outcome? {
        guard let m = try? JSONDecoder().decode(Message.self, from: Data(text.utf8)) else { return nil }
        if m.type == "failed" { return .failed(m.payload?.message ?? "no reason given") }
        if let r = m.payload?.redirect { return .success(redirect: r) }
        return nil
    }
}
