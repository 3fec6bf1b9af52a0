import Foundation
import OmniPostCore

/// What one read of a post means for its verification: written once for every platform, from what the
/// platform's read showed (`Sighting`) and what was asked (`PostRef`).
package enum ReadBackVerdict: Sendable, Equatable {
    /// Visible in the state asked for.
    case verified(SeenPost)
    /// Not yet: processing, or not shown yet; read again at the schedule's next step.
    case notYet(String)
    /// An alert: a stable reason code and the sentence a person reads.
    case failed(ReasonCode, String)

    /// How far a scheduled time the platform shows may be from the one asked (it rounds to its minute).
    static let scheduleSlack: TimeInterval = 90

    /// Judges one read. `seenBefore`: an earlier read showed the post (so "not found" now means removed);
    /// `lastRead`: the schedule has no read after this one (so "not yet" becomes `not_visible`).
    package static func judge(_ sighting: Sighting, asked: PostRef, platform: String, seenBefore: Bool, lastRead: Bool) -> ReadBackVerdict {
        let verdict: ReadBackVerdict
        switch sighting {
        case .removed(let says):
            return .failed(.removedByPlatform, "\(platform) removed the post \(asked.remoteId): \(says)")
        case .absent(let says):
            if seenBefore { return .failed(.removedByPlatform, "\(platform) showed the post \(asked.remoteId) and no longer does: \(says)") }
            verdict = .notYet("\(platform) does not show the post \(asked.remoteId) yet: \(says)")
        case .seen(let seen):
            if seen.locked {
                return .failed(
                    .lockedPrivate, "\(platform) locked the post \(asked.remoteId) private by itself (\(seen.says)); asked: \(asked.asked.rawValue)")
            }
            if seen.processing {
                verdict = .notYet("\(platform) is still processing the post \(asked.remoteId) (\(seen.says))")
            } else if let mismatch = mismatch(seen, asked: asked) {
                return .failed(.privacyMismatch, "\(platform) shows the post \(asked.remoteId) \(mismatch) (\(seen.says))")
            } else {
                return .verified(seen)
            }
        }
        if lastRead, case .notYet(let why) = verdict {
            return .failed(.notVisible, "\(why), after every read of the verification schedule")
        }
        return verdict
    }

    /// How what the platform shows differs from what was asked, or nil. A scheduled post is private until
    /// its time on the platforms that schedule it, so a post asked for a time must show that time.
    static func mismatch(_ seen: SeenPost, asked: PostRef) -> String? {
        if let at = asked.publishAt, at > Date() {
            guard let shown = seen.scheduledFor else {
                // A platform whose read names no schedule: its privacy word must still not say public early.
                if let p = seen.privacy, p == Privacy.public.rawValue {
                    return "public already, while it was asked to go public at \(iso(at))"
                }
                return nil
            }
            if abs(shown.timeIntervalSince(at)) > scheduleSlack { return "scheduled for \(iso(shown)), asked: \(iso(at))" }
            return nil
        }
        guard let p = seen.privacy, p != asked.asked.rawValue else { return nil }
        return "as \(p), asked: \(asked.asked.rawValue)"
    }

    static func iso(_ d: Date) -> String { ISO8601DateFormatter().string(from: d) }
}
