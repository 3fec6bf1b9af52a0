import Foundation

/// How often an adapter may ask a platform "is it done yet?" — as data per platform, from the
/// platform's documented limit (TikTok status/fetch: 30 a minute per token). The first check waits
/// `first`; each later one waits `factor` times longer, up to `max`; and never more than `perMinute`
/// checks in any minute, however the numbers are set.
package struct PollPolicy: Sendable, Equatable {
    package var first: Duration
    package var max: Duration
    package var factor: Double
    package var perMinute: Int

    package init(first: Duration, max: Duration, factor: Double = 1.5, perMinute: Int) {
        self.first = first
        self.max = max
        self.factor = factor
        self.perMinute = perMinute
    }

    /// The shortest gap `perMinute` allows.
    package var floor: Duration { .milliseconds(Int64((60_000.0 / Double(Swift.max(1, perMinute))).rounded(.up))) }

    package func pacer() -> Pacer { Pacer(policy: self) }

    /// One polling loop's pace: call `pace()` before each status request.
    package struct Pacer: Sendable {
        let policy: PollPolicy
        var next: Duration
        var started = false
        /// When each request of the last minute went out.
        var sent: [ContinuousClock.Instant] = []

        init(policy: PollPolicy) {
            self.policy = policy
            self.next = Swift.max(policy.first, .zero)
        }

        package mutating func pace() async throws {
            // The first check goes at once; then `first`, growing by `factor` up to `max`.
            var wait: Duration = .zero
            if started {
                wait = Swift.max(next, policy.floor)
                next = Swift.min(next * policy.factor, policy.max)
            }
            started = true
            let now = ContinuousClock.now
            sent.removeAll { now - $0 >= .seconds(60) }
            if sent.count >= policy.perMinute, let oldest = sent.first {
                wait = Swift.max(wait, .seconds(60) - (now - oldest))
            }
            if wait > .zero { try await Task.sleep(for: wait) }
            sent.append(.now)
        }

        /// The gaps a loop of `n` requests would wait, without waiting (for tests and `status`).
        package static func plannedGaps(_ policy: PollPolicy, count n: Int) -> [Duration] {
            var out: [Duration] = []
            var next = policy.first
            for i in 0..<n {
                if i == 0 { out.append(.zero); continue }
                out.append(Swift.max(next, policy.floor))
                next = Swift.min(next * policy.factor, policy.max)
            }
            return out
        }
    }
}
