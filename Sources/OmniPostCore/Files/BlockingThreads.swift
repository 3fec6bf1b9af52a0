import Foundation

/// The threads `StallGuard` runs blocking file work on, kept between jobs: a thread made and ended per
/// read (three per drop: the arrival check, the pairing peek, the sidecar read) was a good part of what
/// a rejected drop cost (issue 30). A job never waits behind another: with no thread free a new one is
/// made, so a read stuck on a hung mount holds only its own thread, as before. A few idle threads are
/// kept, parked on a condition with no timer; more end.
final class BlockingThreads: @unchecked Sendable {
    static let shared = BlockingThreads()
    /// Idle threads kept for the next job.
    static let keptIdle = 4

    private let cond = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var idle = 0

    func run(_ job: @escaping @Sendable () -> Void) {
        cond.lock()
        jobs.append(job)
        // Every queued job needs a thread of its own that is free now: a busy one may never come back.
        let spawn = jobs.count > idle
        if !spawn { cond.signal() }
        cond.unlock()
        if spawn {
            let thread = Thread { [self] in work() }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func work() {
        cond.lock()
        while true {
            while jobs.isEmpty {
                if idle >= Self.keptIdle {
                    cond.unlock()
                    return
                }
                idle += 1
                cond.wait()
                idle -= 1
            }
            let job = jobs.removeFirst()
            cond.unlock()
            job()
            cond.lock()
        }
    }
}

/// One thread that watches every running `StallGuard` for a stall, looking every `step` only while one
/// runs: a watchdog task per read, sleeping 50 ms at a time, was a timer armed and cancelled per read.
final class StallWatch: @unchecked Sendable {
    static let shared = StallWatch()
    static let step: TimeInterval = 0.05

    struct Watched {
        let guard_: StallGuard
        let stall: Duration
        let onStall: @Sendable () -> Void
    }

    private let cond = NSCondition()
    private var watched: [UInt64: Watched] = [:]
    private var nextId: UInt64 = 0
    private var started = false

    func add(_ w: Watched) -> UInt64 {
        cond.lock()
        nextId &+= 1
        let id = nextId
        // Only a parked watcher is woken: one already looking every step sees the newcomer at its next look.
        if watched.isEmpty { cond.signal() }
        watched[id] = w
        let start = !started
        started = true
        cond.unlock()
        if start { Thread.startLoop { [self] in loop() } }
        return id
    }

    func remove(_ id: UInt64) {
        cond.lock()
        watched[id] = nil
        cond.unlock()
    }

    private func loop() {
        cond.lock()
        while true {
            // Nothing running: parked with no timer.
            while watched.isEmpty { cond.wait() }
            _ = cond.wait(until: Date().addingTimeInterval(Self.step))
            var stalled: [Watched] = []
            for (id, w) in watched where w.guard_.sinceTick > w.stall {
                stalled.append(w)
                watched[id] = nil
            }
            cond.unlock()
            for w in stalled { w.onStall() }
            cond.lock()
        }
    }
}
