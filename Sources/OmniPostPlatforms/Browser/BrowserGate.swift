import Foundation

/// Runs browser sessions one at a time by default (a NAS has little memory and each Chromium takes
/// hundreds of MB), and keeps a minimum gap, with jitter, between two posts of one account (a burst of
/// posts from one account is what platforms flag as automation).
package actor BrowserGate {
    package static let shared = BrowserGate()

    /// How many browsers may run at once.
    package let width: Int
    private var running = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var lastPost: [String: ContinuousClock.Instant] = [:]

    package init(width: Int = 1) { self.width = max(1, width) }

    /// How posts of one account are spaced: at least `gap` between the end of one session and the
    /// start of the next, plus up to `jitter` more, chosen at random each time.
    package struct Pacing: Sendable {
        package var gap: Duration
        package var jitter: Duration
        package init(gap: Duration = .seconds(60), jitter: Duration = .seconds(30)) {
            self.gap = gap
            self.jitter = jitter
        }
    }

    /// Runs `body` once a browser slot is free and, with `pacing`, once `account`'s gap has passed.
    package func turn<T: Sendable>(account: String, pacing: Pacing?, _ body: @Sendable () async throws -> T) async throws -> T {
        if let pacing, let last = lastPost[account] {
            let (gap, jitter) = (pacing.gap, pacing.jitter)
            let extra = Duration.milliseconds(Int64.random(in: 0...max(0, Int64(jitter.seconds * 1000))))
            let wait = last + gap + extra - ContinuousClock.now
            if wait > .zero { try await Task.sleep(for: wait) }
        }
        await acquire()
        defer { release() }
        do {
            let v = try await body()
            if pacing != nil { lastPost[account] = ContinuousClock.now }
            return v
        } catch {
            if pacing != nil { lastPost[account] = ContinuousClock.now }
            throw error
        }
    }

    private func acquire() async {
        if running < width {
            running += 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty { running -= 1 } else { waiters.removeFirst().resume() }
    }
}
