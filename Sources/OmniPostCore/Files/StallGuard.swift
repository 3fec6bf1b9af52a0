import Foundation

/// Runs blocking file work on a thread of its own with a deadline on *progress*: as long as the work
/// keeps calling `tick()` it may take as long as it needs (hashing 20 GB on a slow NAS), but a read that
/// stops moving for `stall` — a hung network mount, a device that never answers — fails that one drop
/// with `io_stalled` instead of freezing the stage. The stuck thread is abandoned (the kernel will not
/// let it be interrupted); the daemon goes on.
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
        let box = ResultBox<T>()
        let thread = Thread {
            let r = Result { try work(guard_) }
            box.set(r)
        }
        thread.stackSize = 1 << 20
        thread.start()
        let step: Duration = min(.milliseconds(50), stall / 4)
        var wait: Duration = .milliseconds(1)
        while true {
            if let r = box.get() { return try r.get() }
            if guard_.sinceTick > stall {
                throw OmniError(
                    .ioStalled, "\(what) made no progress for \(Int(stall.seconds)) s (a hung network mount or a device?); skipped so the rest of the inbox goes on",
                    at: location)
            }
            try await Task.sleep(for: wait)
            wait = min(wait * 2, step)
        }
    }
}

private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<T, any Error>?
    func set(_ v: Result<T, any Error>) { lock.lock(); value = v; lock.unlock() }
    func get() -> Result<T, any Error>? { lock.lock(); defer { lock.unlock() }; return value }
}
