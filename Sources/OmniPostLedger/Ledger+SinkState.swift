import Foundation

extension Ledger {
    /// How an alert sink is doing, from its messages in the outbox: `down` when its newest try failed —
    /// a message waits after a failed send, or the newest message tried was given up on — and not since
    /// taken by a later send. What `status`, its JSON and the dashboard show beside `/metrics`' series.
    package struct SinkState: Sendable, Codable, Equatable {
        package var sink: String
        package var down: Bool
        /// Messages not yet sent (and not given up on), and how many of them failed at least once.
        package var pending: Int
        package var failing: Int
        package var givenUp: Int
        package var sent: Int
        package var lastSentAt: Double?
        package var lastError: String?
    }

    /// Every configured sink (and any the outbox names), by name.
    package func sinkStates(configured: [String]) throws -> [SinkState] {
        let notes = try notifications()
        return Set(configured + notes.map(\.sink)).sorted().map { sink in
            let mine = notes.filter { $0.sink == sink }
            let waiting = mine.filter { $0.sentAt == nil && !$0.givenUp }
            let failing = waiting.filter { $0.attempts > 0 }
            let lastSent = mine.compactMap(\.sentAt).max()
            // The newest message anyone tried: sent, or failed (waiting again, or given up).
            let newestTried = mine.filter { $0.attempts > 0 }.max { $0.id < $1.id }
            let down = !failing.isEmpty || (newestTried.map { $0.sentAt == nil } ?? false)
            let lastError = (failing.max { $0.id < $1.id } ?? (down ? newestTried : nil))?.lastError
            return SinkState(
                sink: sink, down: down, pending: waiting.count, failing: failing.count, givenUp: mine.filter(\.givenUp).count,
                sent: mine.filter { $0.sentAt != nil }.count, lastSentAt: lastSent, lastError: lastError)
        }
    }
}
