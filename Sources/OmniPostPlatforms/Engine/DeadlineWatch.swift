import Foundation

/// One timer for every verb's time limit in the process (`VerbTimeout`), instead of a sleeping timer
/// task per verb. A verb's task registers itself with its deadline while the verb runs; one watcher task
/// sleeps until the earliest deadline held, cancels each task whose deadline has passed and marks its
/// entry expired, then sleeps until the next. A part of an upload used to cost a task group with a timer
/// task — spawned, its sleep registered, cancelled and joined, one more hop between threads each part
/// (docs/performance.md, r16); now it costs a lock and an entry, and the watcher wakes once per limit
/// (minutes), not once per part.
///
/// The task is cancelled through `UnsafeCurrentTask`: safe here because it is only touched under the lock
/// while its entry is held, and the entry is let go before `guarding` returns — the task is alive for
/// as long as the watcher can reach it. Cancelling is for good, so the caller runs it on a task that is
/// the verb's alone (a child of its own, `VerbTimeout`).
final class DeadlineWatch: @unchecked Sendable {  // guarded by `lock`
    static let shared = DeadlineWatch()

    private final class Entry {
        let deadline: ContinuousClock.Instant
        var task: UnsafeCurrentTask?
        var expired = false
        init(_ deadline: ContinuousClock.Instant) { self.deadline = deadline }
    }

    private let lock = NSLock()
    private var entries: [ObjectIdentifier: Entry] = [:]
    /// The watcher's wake-up and which watcher it is (a later one replaces it when an earlier deadline comes).
    private var armed: (until: ContinuousClock.Instant, generation: Int, task: Task<Void, Never>)?
    private var generation = 0

    /// Runs `body` on the current task, which is cancelled if it is still running at `deadline`; what it
    /// ended with, and whether the deadline passed while it ran (then its failure is the deadline's).
    func guarding<T>(_ deadline: ContinuousClock.Instant, _ body: () async throws -> T) async -> (result: Result<T, any Error>, expired: Bool) {
        let entry = Entry(deadline)
        let key = ObjectIdentifier(entry)
        withUnsafeCurrentTask { task in
            lock.withLock {
                entry.task = task
                entries[key] = entry
                if armed.map({ deadline < $0.until }) ?? true { arm(until: deadline) }
            }
        }
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        let expired = lock.withLock {
            entries[key] = nil
            entry.task = nil
            return entry.expired
        }
        return (result, expired)
    }

    /// How many verbs are being watched (tests: none left behind).
    var watching: Int { lock.withLock { entries.count } }

    /// Under the lock: a watcher that wakes at `until`, replacing the one armed for later.
    private func arm(until: ContinuousClock.Instant) {
        armed?.task.cancel()
        generation += 1
        let g = generation
        // Detached: the watcher is no verb's child, and takes none of its task-locals.
        armed = (until, g, Task.detached { [self] in await watch(from: until, generation: g) })
    }

    private func watch(from first: ContinuousClock.Instant, generation g: Int) async {
        var until = first
        while true {
            try? await Task.sleep(until: until, clock: .continuous)
            if Task.isCancelled { return }
            let next: ContinuousClock.Instant? = lock.withLock {
                guard armed?.generation == g else { return nil }
                let now = ContinuousClock.now
                var earliest: ContinuousClock.Instant?
                for e in entries.values where !e.expired {
                    if e.deadline <= now {
                        e.expired = true
                        e.task?.cancel()
                    } else if earliest.map({ e.deadline < $0 }) ?? true {
                        earliest = e.deadline
                    }
                }
                if let earliest {
                    armed?.until = earliest
                } else {
                    armed = nil
                }
                return earliest
            }
            guard let next else { return }
            until = next
        }
    }
}
