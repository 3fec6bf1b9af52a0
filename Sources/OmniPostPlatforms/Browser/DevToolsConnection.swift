import Foundation
import HummingbirdWSClient
import Logging
import NIOCore

/// One WebSocket to a browser's DevTools endpoint: commands go out with an id and their reply is
/// awaited by that id (with a hard timeout each); events are kept for whoever waits on them. Sessions
/// are flattened (`Target.attachToTarget {flatten: true}`): a command for a page carries its
/// `sessionId` on the same socket — the protocol as puppeteer and chromedp use it.
package actor DevToolsConnection {
    /// A command the browser answered with an error, or that had no answer in time.
    package struct Failure: Error, CustomStringConvertible {
        package var method: String
        package var message: String
        package var timedOut = false
        package var description: String { "\(method): \(message)" }
    }

    /// An event the browser sent (`Page.loadEventFired`, `Network.responseReceived`…).
    package struct Event: Sendable {
        package var method: String
        package var params: CDPValue
        package var sessionId: String?
    }

    private var outbound: WebSocketOutboundWriter?
    private var nextId = 1
    private var waiting: [Int: CheckedContinuation<CDPValue, any Error>] = [:]
    /// Events with their sequence number (the count of events before them).
    private var events: [(seq: Int, event: Event)] = []
    private var received = 0
    private var ended: String?
    private var task: Task<Void, Never>?

    /// Connects to `url` within `within`; the socket stays open until `close()`.
    package static func open(_ url: String, within: Duration = .seconds(15)) async throws -> DevToolsConnection {
        let c = DevToolsConnection()
        await c.start(url: url)
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            if await c.isOpen { return c }
            if let e = await c.ended { throw Failure(method: "connect", message: e) }
            try await Task.sleep(for: .milliseconds(20))
        }
        await c.close()
        throw Failure(method: "connect", message: "no DevTools connection within \(Int(within.seconds)) s", timedOut: true)
    }

    private var isOpen: Bool { outbound != nil }

    private func start(url: String) {
        var logger = Logger(label: "omnipost.browser.devtools")
        logger.logLevel = .critical
        // A screenshot or a page's HTML comes as one large frame: allow 64 MiB.
        let config = WebSocketClientConfiguration(maxFrameSize: 64 << 20)
        task = Task {
            do {
                try await WebSocketClient.connect(url: url, configuration: config, logger: logger) { inbound, outbound, _ in
                    await self.setOpen(outbound)
                    for try await m in inbound.messages(maxSize: 64 << 20) {
                        if case .text(let t) = m { await self.receive(t) }
                    }
                }
                self.end("the browser closed the DevTools connection")
            } catch {
                self.end("DevTools connection failed: \(error)")
            }
        }
    }

    private func setOpen(_ o: WebSocketOutboundWriter) { outbound = o }

    private func end(_ why: String) {
        if ended == nil { ended = why }
        outbound = nil
        for (_, c) in waiting { c.resume(throwing: Failure(method: "connection", message: why)) }
        waiting = [:]
    }

    private func receive(_ text: String) {
        guard let v = try? JSONDecoder().decode(CDPValue.self, from: Data(text.utf8)) else { return }
        if let id = v["id"].numberValue.map({ Int($0) }) {
            guard let c = waiting.removeValue(forKey: id) else { return }
            if !v["error"].isNull {
                c.resume(throwing: Failure(method: "#\(id)", message: v["error"]["message"].stringValue ?? "error"))
            } else {
                c.resume(returning: v["result"])
            }
        } else if let m = v["method"].stringValue {
            events.append((received, Event(method: m, params: v["params"], sessionId: v["sessionId"].stringValue)))
            received += 1
            // Nobody reads old events past a bound: a long session does not grow without end.
            if events.count > 2000 { events.removeFirst(events.count - 2000) }
        }
    }

    /// Sends `method` with `params` (to the page of `session`, or the browser) and returns its result,
    /// or throws when the browser answers an error or nothing within `timeout`.
    package func send(_ method: String, _ params: CDPValue = [:], session: String? = nil, timeout: Duration = .seconds(30)) async throws -> CDPValue {
        guard let outbound else { throw Failure(method: method, message: ended ?? "not connected") }
        let id = nextId
        nextId += 1
        var msg: [String: CDPValue] = ["id": .number(Double(id)), "method": .string(method), "params": params]
        if let session { msg["sessionId"] = .string(session) }
        let text = String(decoding: try JSONEncoder().encode(CDPValue.object(msg)), as: UTF8.self)
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.expire(id, method: method, after: timeout)
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { c in
            waiting[id] = c
            Task {
                do { try await outbound.write(.text(text)) } catch { self.fail(id, method: method, error) }
            }
        }
    }

    private func expire(_ id: Int, method: String, after: Duration) {
        waiting.removeValue(forKey: id)?.resume(throwing: Failure(method: method, message: "no answer within \(after)", timedOut: true))
    }

    private func fail(_ id: Int, method: String, _ error: any Error) {
        waiting.removeValue(forKey: id)?.resume(throwing: Failure(method: method, message: "\(error)"))
    }

    /// Waits at most `within` for an event named `method` (of `session` when given) that arrived after
    /// `since` (an index from `eventMark`); nil when none came.
    package func event(_ method: String, session: String? = nil, since: Int = 0, within: Duration) async -> Event? {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            if let e = events.first(where: { $0.seq >= since && $0.event.method == method && (session == nil || $0.event.sessionId == session) }) {
                return e.event
            }
            if ended != nil { return nil }
            try? await Task.sleep(for: .milliseconds(25))
        }
        return nil
    }

    /// A mark: events after it are the ones `event(since:)` looks at.
    package func eventMark() -> Int { received }

    /// Closes the socket and waits until it is gone.
    package func close() async {
        if let outbound { try? await outbound.close(.normalClosure, reason: nil) } else { task?.cancel() }
        task?.cancel()
        await task?.value
        task = nil
    }
}
