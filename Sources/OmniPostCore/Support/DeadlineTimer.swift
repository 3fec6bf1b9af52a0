import Foundation

/// One thread that calls back at deadlines, sleeping on a condition until the earliest one: the daemon's
/// timed waits (a stage's next due time, the notifier's look, the account checks) wake it exactly when
/// due. Through `Task.sleep` they were libdispatch timers, and while any is pending libdispatch's manager
/// thread re-arms its timerfd once a second (issue 30). (The once-a-second re-arm strace still shows on an
/// idle daemon is libdispatch's own: on Linux its internal workqueue monitors its thread pools with a 1 s
/// timer on the manager queue for the life of the process — src/event/workqueue.c, `_dispatch_workq_init_once`.)
package final class DeadlineTimer: @unchecked Sendable {
    package static let shared = DeadlineTimer()

    private struct Entry {
        var deadline: ContinuousClock.Instant
        var fire: @Sendable () -> Void
    }
    private let cond = NSCondition()
    private var entries: [UInt64: Entry] = [:]
    private var nextId: UInt64 = 0
    private var started = false
    /// The deadline the thread sleeps until now (nil: parked with no deadline).
    private var sleepingUntil: ContinuousClock.Instant?

    /// Calls `fire` once `delay` has passed (on the timer's thread: it must be quick), unless cancelled.
    package func schedule(after delay: Duration, _ fire: @escaping @Sendable () -> Void) -> UInt64 {
        let deadline = ContinuousClock.now + delay
        cond.lock()
        nextId &+= 1
        let id = nextId
        entries[id] = Entry(deadline: deadline, fire: fire)
        // Woken only when this deadline comes before the one it sleeps until.
        if sleepingUntil.map({ deadline < $0 }) ?? true { cond.signal() }
        let start = !started
        started = true
        cond.unlock()
        if start { Thread.startLoop { [self] in loop() } }
        return id
    }

    package func cancel(_ id: UInt64) {
        cond.lock()
        entries[id] = nil
        cond.unlock()
    }

    /// The timer thread's name (what `top -H`, the idle bench and /proc/<pid>/task/*/comm show).
    package static let threadName = "deadline-timer"

    private func loop() {
        // Foundation's `Thread.name` does not reach the kernel on Linux: the thread would keep its creator's
        // name (a libdispatch worker's) and hide among them.
        if let comm = FileHandle(forWritingAtPath: "/proc/thread-self/comm") {
            try? comm.write(contentsOf: Data(Self.threadName.utf8))
            try? comm.close()
        }
        cond.lock()
        while true {
            guard let earliest = entries.values.lazy.map(\.deadline).min() else {
                sleepingUntil = nil
                cond.wait()
                continue
            }
            let now = ContinuousClock.now
            if earliest > now {
                sleepingUntil = earliest
                let wait = now.duration(to: earliest)
                _ = cond.wait(until: Date().addingTimeInterval(Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18))
                sleepingUntil = nil
                continue
            }
            let due = entries.filter { $0.value.deadline <= now }
            for id in due.keys { entries[id] = nil }
            cond.unlock()
            for e in due.values { e.fire() }
            cond.lock()
        }
    }
}
