import Foundation
import OmniPostIngest

/// A `SettleClock` that moves only when a test moves it: a watcher's settle window passes in one call,
/// with no real time waited and no race with a busy machine.
final class ManualSettleClock: SettleClock, @unchecked Sendable {
    private struct Sleeper {
        var deadline: Duration
        var continuation: CheckedContinuation<Void, any Error>
    }
    private let lock = NSLock()
    private var t: Duration = .zero
    private var sleepers: [UInt64: Sleeper] = [:]
    private var cancelled = Set<UInt64>()
    private var nextId: UInt64 = 0

    func now() -> Duration { lock.withLock { t } }
    /// How many are asleep on this clock right now.
    var sleeping: Int { lock.withLock { sleepers.count } }

    func sleep(for duration: Duration) async throws {
        let id: UInt64 = lock.withLock {
            nextId += 1; return nextId
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let resume: Result<Void, any Error>? = lock.withLock {
                    if cancelled.remove(id) != nil { return .failure(CancellationError()) }
                    if duration <= .zero { return .success(()) }
                    sleepers[id] = Sleeper(deadline: t + duration, continuation: c)
                    return nil
                }
                if let resume { c.resume(with: resume) }
            }
        } onCancel: {
            let c: CheckedContinuation<Void, any Error>? = lock.withLock {
                if let s = sleepers.removeValue(forKey: id) { return s.continuation }
                cancelled.insert(id)
                return nil
            }
            c?.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock on by `d`, waking every sleeper whose time has come.
    func advance(by d: Duration) {
        let due: [CheckedContinuation<Void, any Error>] = lock.withLock {
            t += d
            let ready = sleepers.filter { $0.value.deadline <= t }
            for k in ready.keys { sleepers[k] = nil }
            return ready.values.map(\.continuation)
        }
        for c in due { c.resume() }
    }
}
