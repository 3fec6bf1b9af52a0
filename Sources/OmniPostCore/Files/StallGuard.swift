import Foundation

/// Runs blocking file work on a thread of its own with a deadline on *progress*: as long as the work
/// keeps calling `tick()` it may take as long as it needs (hashing 20 GB on a slow NAS), but a read that
/// stops moving for `stall` — a hung network mount, a device that never answers — fails that one drop
/// with `io_stalled` instead of freezing the stage. The stuck thread is abandoned (the kernel will not
/// let it be interrupted); the daemon goes on. The threads are kept between reads (`BlockingThreads`)
/// and one thread watches every read for a stall (`StallWatch`).
package final class StallGuard: @unchecked Sendable {
    private let lock = NSLock()
    private var lastTick = ContinuousClock.now

    init() {}

    /// Called by the work after every read.
    package func tick() {
        lock.lock(); lastTick = .now; lock.unlock()
    }

    var sinceTick: Duration { lock.lock(); defer { lock.unlock() }; return .now - lastTick }

    package static func run<T: Sendable>(
        _ what: String, at location: SourceLocation? = nil, stall: Duration = .seconds(60),
        _ work: @escaping @Sendable (StallGuard) throws -> T
    ) async throws -> T {
        let guard_ = StallGuard()
        let answer = OnceAnswer<T>()
        // Cancelled (a shutdown, a reload): answered at once, the work left to finish on its thread.
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
                answer.set(c)
                // Watched only while the work runs: the work's end takes it off the watch and answers at once
                // (no polling for the result — the watcher asks this for every settled file, one after another).
                let watch = StallWatch.shared.add(
                    .init(guard_: guard_, stall: stall) {
                        answer.finish(
                            .failure(
                                OmniError(
                                    .ioStalled,
                                    "\(what) made no progress for \(Int(stall.seconds)) s (a hung network mount or a device?); skipped so the rest of the inbox goes on",
                                    at: location)))
                    })
                BlockingThreads.shared.run {
                    let r = Result { try work(guard_) }
                    StallWatch.shared.remove(watch)
                    answer.finish(r)
                }
            }
        } onCancel: {
            answer.finish(.failure(CancellationError()))
        }
    }
}

/// Resumes a continuation once: with the work's result, or with the watchdog's error, whichever comes first.
private final class OnceAnswer<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var done: Result<T, any Error>?
    /// The continuation to resume; at once, if the answer came first (cancelled before it was set).
    func set(_ c: CheckedContinuation<T, any Error>) {
        let early = lock.withLock { () -> Result<T, any Error>? in
            if done == nil { continuation = c }
            return done
        }
        if let early { c.resume(with: early) }
    }
    func finish(_ r: Result<T, any Error>) {
        let c = lock.withLock { () -> CheckedContinuation<T, any Error>? in
            if done == nil { done = r }
            defer { continuation = nil }
            return continuation
        }
        c?.resume(with: r)
    }
}
