import Foundation

/// A doorbell shared by several loops (an event count). A loop takes a `ticket()` before it looks for
/// work and, finding none, waits `after:` that ticket: if anyone rang since, the wait returns at once,
/// so a ring can never fall between "nothing to do" and "asleep", whichever loop it was meant for.
///
/// A ring may name the work that appeared (`Topic`): a loop that waits for one topic is woken only by
/// rings of it (issue 30: every transition waking all seven stage loops made each drop cost seven
/// looks at the ledger per step it took). A ring without a topic, and a wait without one, mean "any".
/// Waits time out only when given a timeout: an idle loop with nothing due sets no timer at all.
package final class Wakeup: @unchecked Sendable {
    /// The work a ring announces, by the stage loop that takes it up.
    package struct Topic: OptionSet, Sendable, Hashable {
        package let rawValue: UInt16
        package init(rawValue: UInt16) { self.rawValue = rawValue }
        /// A file was recorded, or files wait again (a withdrawn drop): the assemble stage pairs them.
        package static let files = Topic(rawValue: 1 << 0)
        /// A drop was made: the validate lanes.
        package static let received = Topic(rawValue: 1 << 1)
        /// A drop was validated: the convert lanes.
        package static let validated = Topic(rawValue: 1 << 2)
        /// A delivery may be sent, or an upload slot came free: the upload loop.
        package static let ready = Topic(rawValue: 1 << 3)
        /// A drop was rejected or its last delivery ended: the archive stage.
        package static let finished = Topic(rawValue: 1 << 4)
        /// A post went out: the verify stage reads it back.
        package static let published = Topic(rawValue: 1 << 5)
        /// An upload was claimed under a lease: on a SQLite ledger the heartbeat beats again to renew it.
        package static let held = Topic(rawValue: 1 << 6)
        /// A drop was rejected: the archive's rejections lane, which a published delivery (`finished`
        /// too) would only wake for empty claims. Rings `finished` as well only when that lane is not
        /// asleep to take it (`ring`); a rejected clip list's entry, which only the `finished` lane files,
        /// rings `finished` itself (ValidateStage).
        package static let rejected = Topic(rawValue: 1 << 7)
        /// A drop was made and no loop waiting for `received` alone is asleep to take it: the second
        /// validate lane (small clips). A drop rings the first lane only while it waits — the second woke
        /// for every drop and claimed nothing (issue 30); a burst, or a first lane busy with a huge clip,
        /// wakes both.
        package static let receivedSpare = Topic(rawValue: 1 << 8)
        /// The process-wide safety net's round found work open in this pipeline's ledger (issue 30): every
        /// stage loop looks, as its own 30 s timeout had it look — a missed ring costs at most a round.
        /// Not work by itself: an idle pipeline's compaction does not count it (`IdleMemory`).
        package static let look = Topic(rawValue: 1 << 9)
        /// A minute went by (the safety net's clock): the notifier's look for what only time brings.
        package static let clock = Topic(rawValue: 1 << 10)
        package static let all = Topic(rawValue: .max)
        static let count = 11
    }

    private struct Waiter {
        var continuation: CheckedContinuation<Void, Never>
        var topic: Topic
        /// Its timeout's entry in `DeadlineTimer` (not a `Task.sleep`: a libdispatch timer pending re-arms
        /// its timerfd once a second).
        var timer: UInt64?
    }
    private let lock = NSLock()
    /// Waiters by a number of our own: never `UUID()`, which on Linux reads /dev/urandom and, with every
    /// file descriptor taken, can fail and repeat — one waiter overwriting another, whose continuation leaks.
    private var waiters: [UInt64: Waiter] = [:]
    /// Rings per topic bit; a ticket for a topic is the sum over its bits (it moves when any of them rings).
    private var generations = [UInt64](repeating: 0, count: Topic.count)
    private var nextId: UInt64 = 0

    package init() {}

    private func generation(_ topic: Topic) -> UInt64 {
        var sum: UInt64 = 0
        for bit in 0..<Topic.count where topic.rawValue & (1 << bit) != 0 { sum &+= generations[bit] }
        return sum
    }

    /// The ticket for rings of `topic` (of any topic by default).
    package func ticket(_ topic: Topic = .all) -> UInt64 {
        lock.lock(); defer { lock.unlock() }
        return generation(topic)
    }

    /// Wakes the loops waiting for `topic` (every loop by default). `received` rings `receivedSpare` too
    /// only when no loop waiting for `received` without it (the first validate lane) is asleep.
    package func ring(_ topic: Topic = .all) {
        lock.lock()
        var topic = topic
        if topic.contains(.received), !topic.contains(.receivedSpare),
            !waiters.values.contains(where: { $0.topic.contains(.received) && !$0.topic.contains(.receivedSpare) })
        {
            topic.insert(.receivedSpare)
        }
        // The same for a rejection: the archive's rejections lane takes it while it is asleep to; the
        // lane that files everything (`finished`) is woken too only when it is not — a burst, or a lane
        // busy filing — rather than both waking for one rejected drop and one claiming nothing.
        if topic.contains(.rejected), !topic.contains(.finished),
            !waiters.values.contains(where: { $0.topic.contains(.rejected) && !$0.topic.contains(.finished) })
        {
            topic.insert(.finished)
        }
        for bit in 0..<Topic.count where topic.rawValue & (1 << bit) != 0 { generations[bit] &+= 1 }
        var woken: [Waiter] = []
        for (id, w) in waiters where !w.topic.isDisjoint(with: topic) {
            woken.append(w)
            waiters.removeValue(forKey: id)
        }
        lock.unlock()
        for w in woken {
            if let t = w.timer { DeadlineTimer.shared.cancel(t) }
            w.continuation.resume()
        }
    }

    /// Waits until `topic` rings after `ticket` was taken, or `timeout` passes (never, when nil).
    package func wait(after ticket: UInt64, for topic: Topic = .all, timeout: Duration?) async {
        let id = lock.withLock {
            nextId &+= 1; return nextId
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                lock.lock()
                if generation(topic) != ticket || Task.isCancelled {
                    lock.unlock()
                    c.resume()
                    return
                }
                waiters[id] = Waiter(continuation: c, topic: topic, timer: nil)
                if let timeout {
                    waiters[id]?.timer = DeadlineTimer.shared.schedule(after: timeout) { [weak self] in self?.resume(id) }
                }
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
        if let t = w?.timer { DeadlineTimer.shared.cancel(t) }
        w?.continuation.resume()
    }

    /// Sleeps `duration` (or until cancelled) on `DeadlineTimer`, not on a libdispatch timer.
    package static func sleep(for duration: Duration) async {
        let bell = Wakeup()
        // No topic: nothing rings it; the timeout (or cancellation) ends it.
        await bell.wait(after: bell.ticket([]), for: [], timeout: duration)
    }

    /// Waits until the task is cancelled, with no timer at all.
    package static func untilCancelled() async {
        let bell = Wakeup()
        await bell.wait(after: bell.ticket([]), for: [], timeout: nil)
    }
}
