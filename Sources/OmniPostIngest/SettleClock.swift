import Foundation

/// What the inbox watcher reads time from and sleeps on between its looks: the settle window, the
/// stale-open wait and the tick are all measured on it. The system's monotonic clock in the daemon;
/// a clock a test moves by hand, so a test of settling waits for no real time (WatcherTests).
package protocol SettleClock: Sendable {
    /// Monotonic time since the clock's own origin.
    func now() -> Duration
    /// Returns once `duration` has passed on this clock; throws when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// The system's monotonic clock.
package struct SystemSettleClock: SettleClock {
    private let origin = ContinuousClock.now
    package init() {}
    package func now() -> Duration { ContinuousClock.now - origin }
    package func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}
