import Foundation

/// A doorbell between stages: a stage that moved work on rings it, idle stages wake at once instead
/// of polling the ledger in a tight loop. Waits always time out too, as a safety net (and for
/// deferred work becoming due), so a missed ring only costs latency, never correctness.
public final class Wakeup: @unchecked Sendable {
    private let lock = NSLock()
    private var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    private var pending = false

    public init() {}

    public func ring() {
        lock.lock()
        let ws = waiters
        waiters.removeAll()
        if ws.isEmpty { pending = true }
        lock.unlock()
        for (_, c) in ws { c.resume() }
    }

    public func wait(timeout: Duration) async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                lock.lock()
                if pending || Task.isCancelled {
                    pending = false
                    lock.unlock()
                    c.resume()
                    return
                }
                waiters[id] = c
                lock.unlock()
                Task { [weak self] in
                    try? await Task.sleep(for: timeout)
                    self?.resume(id)
                }
            }
        } onCancel: {
            resume(id)
        }
    }

    private func resume(_ id: UUID) {
        lock.lock()
        let c = waiters.removeValue(forKey: id)
        lock.unlock()
        c?.resume()
    }
}
