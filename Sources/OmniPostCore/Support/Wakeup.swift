import Foundation

/// A doorbell shared by several loops (an event count). A loop takes a `ticket()` before it looks for
/// work and, finding none, waits `after:` that ticket: if anyone rang since, the wait returns at once,
/// so a ring can never fall between "nothing to do" and "asleep", whichever loop it was meant for.
/// Waits also time out, as a safety net.
package final class Wakeup: @unchecked Sendable {
    private struct Waiter {
        var continuation: CheckedContinuation<Void, Never>
        var timer: Task<Void, Never>?
    }
    private let lock = NSLock()
    /// Waiters by a number of our own: never `UUID()`, which on Linux reads /dev/urandom and, with every
    /// file descriptor taken, can fail and repeat — one waiter overwriting another, whose continuation leaks.
    private var waiters: [UInt64: Waiter] = [:]
    private var generation: UInt64 = 0
    private var nextId: UInt64 = 0

    package init() {}

    package func ticket() -> UInt64 {
        lock.lock(); defer { lock.unlock() }
        return generation
    }

    package func ring() {
        lock.lock()
        generation &+= 1
        let ws = waiters
        waiters.removeAll()
        lock.unlock()
        for w in ws.values {
            w.timer?.cancel()
            w.continuation.resume()
        }
    }

    package func wait(after ticket: UInt64, timeout: Duration) async {
        let id = lock.withLock {
            nextId &+= 1; return nextId
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                lock.lock()
                if generation != ticket || Task.isCancelled {
                    lock.unlock()
                    c.resume()
                    return
                }
                waiters[id] = Waiter(continuation: c, timer: nil)
                let timer = Task { [weak self] in
                    try? await Task.sleep(for: timeout)
                    if !Task.isCancelled { self?.resume(id) }
                }
                waiters[id]?.timer = timer
                lock.unlock()
            }
        } onCancel: {
            resume(id)
        }
    }

    private func resume(_ id: UInt64) {
        lock.lock()
        let w = waiters.removeValue(forKey: id)
        lock.unlock()
        w?.timer?.cancel()
        w?.continuation.resume()
    }
}
