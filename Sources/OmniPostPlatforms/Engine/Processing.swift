import Foundation

/// Where the platform's processing of an uploaded file stands (`finish` and `status` answer this).
package enum Processing: Sendable {
    /// Not yet: ask again, no sooner than `after` when the platform names a wait (X's `check_after_secs`).
    case pending(after: Duration?)
    /// Done: the post can be made.
    case ready
    /// The platform published it by itself (TikTok's direct post): nothing is left to send.
    case published(PublishOutcome)
    /// It will not become ready: permanent (the platform failed it) or retry-now (it forgot it).
    case failed(DeliveryError)
    /// The session is spent and never became a post (a container expired, or failed to fetch our link):
    /// the engine opens a fresh one (`SessionGone`).
    case gone(String)
}

/// How the engine waits for processing: paced by a `PollPolicy` where the platform documents a status
/// rate (TikTok's 30 a minute), else by the waits the platform names; within `timeout` in all.
package struct ProcessingPoll: Sendable {
    package var policy: PollPolicy?
    package var timeout: Duration
    /// What a timed-out wait says, before "after N s" (default: "<platform> had not finished processing").
    package var timeoutMessage: String? = nil

    package init(policy: PollPolicy?, timeout: Duration) {
        self.policy = policy
        self.timeout = timeout
    }

    /// Asks `status` until processing ends, starting from what `finish` said. Returns the outcome when
    /// the platform published by itself, nil when the post is OmniPost's to make. A 429 on a status
    /// read is waited out here (within the deadline): the upload is fine, and deferring the delivery
    /// would only record it late.
    func wait(_ first: Processing, platform: String, status: () async throws -> Processing) async throws -> PublishOutcome? {
        let end = ContinuousClock.now + timeout
        var pacer = policy?.pacer()
        var state = first
        while true {
            switch state {
            case .ready: return nil
            case .published(let outcome): return outcome
            case .failed(let e): throw e
            case .gone(let why): throw SessionGone(why)
            case .pending(let after):
                if var p = pacer {
                    guard ContinuousClock.now < end else { throw expired(platform) }
                    try await p.pace()
                    pacer = p
                } else if let wait = after {
                    guard ContinuousClock.now + wait < end else { throw expired(platform) }
                    try await Task.sleep(for: wait)
                }
            }
            do { state = try await status() } catch let e as DeliveryError {
                guard case .retryAt(let when) = e.kind, e.code == .rateLimited, when < Date().addingTimeInterval(timeout.seconds) else { throw e }
                try await Task.sleep(for: .milliseconds(Int64(max(0, when.timeIntervalSinceNow) * 1000)))
                state = .pending(after: nil)
            }
        }
    }

    private func expired(_ platform: String) -> DeliveryError {
        DeliveryError(.retryNow, .platformError, "\(timeoutMessage ?? "\(platform) had not finished processing") after \(Int(timeout.seconds)) s")
    }
}
