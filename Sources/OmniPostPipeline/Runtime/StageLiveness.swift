import Foundation
import Synchronization

/// Whether each stage loop of a pipeline is alive: waiting for work, or in a step that has shown progress
/// within its deadline. systemd's watchdog is fed from this (`SystemdWatchdog`): a stage stuck past its
/// deadline — a step that never returns, a claim blocked on the ledger — stops the pings, and systemd
/// restarts the daemon, whose leases and checkpoints let the next start carry on.
package final class StageLiveness: Sendable {
    /// A stage that has been in one step without progress for longer than its deadline.
    package struct Stuck: Sendable, Equatable, CustomStringConvertible {
        package var stage: String
        package var seconds: Int
        package var deadline: Int
        package var description: String { "\(stage) has shown no progress for \(seconds) s (its deadline is \(deadline) s)" }
    }

    private struct Beat {
        /// When the step began or last showed progress; nil while the loop waits for work.
        var since: Date?
        var deadline: Duration
    }

    private let beats = Mutex<[String: Beat]>([:])

    /// How long a step may go without progress. ffprobe, ffmpeg and every read of a user's file carry
    /// their own, shorter deadlines (on progress), so a step past this is stuck, not slow.
    package static let stepDeadline: Duration = .seconds(600)
    /// The upload loop claims and hands work to tasks; it comes round at least every idle sleep (30 s).
    package static let loopDeadline: Duration = .seconds(120)

    package init() {}

    /// A step begins (or an idle loop comes round: `beat`).
    package func enter(_ stage: String, deadline: Duration = StageLiveness.stepDeadline, at now: Date = Date()) {
        beats.withLock { $0[stage] = Beat(since: now, deadline: deadline) }
    }

    /// The step showed progress (an ffmpeg progress line, a loop coming round).
    package func beat(_ stage: String, at now: Date = Date()) {
        beats.withLock { b in
            if b[stage] != nil { b[stage]!.since = now } else { b[stage] = Beat(since: now, deadline: Self.loopDeadline) }
        }
    }

    /// The step ended: the loop waits for work, which is not being stuck.
    package func leave(_ stage: String) {
        beats.withLock { $0[stage]?.since = nil }
    }

    /// The stages in a step with no progress for longer than their deadline.
    package func stuck(at now: Date = Date()) -> [Stuck] {
        beats.withLock { beats in
            beats.compactMap { name, b -> Stuck? in
                guard let since = b.since else { return nil }
                let idle = now.timeIntervalSince(since)
                let limit = Double(b.deadline.components.seconds)
                return idle > limit ? Stuck(stage: name, seconds: Int(idle), deadline: Int(limit)) : nil
            }.sorted { $0.stage < $1.stage }
        }
    }
}
