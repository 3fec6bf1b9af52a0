import Foundation
import OmniPostCore

/// What becomes of a post after it is published, as a platform decides it: shown as asked, never shown,
/// locked private, or shown in another privacy (`Faults.postFates`); taken down later by the platform
/// (`takeDown`). Every platform's read endpoint asks `postLife` and answers in its own words, so the
/// conformance suite asks any platform for the same case.
package enum PostFate: Sendable, Codable, Equatable {
    case asPosted
    /// Every read answers "not found", as for an id the platform never made visible.
    case hidden
    /// The platform made it private by itself (YouTube: uploads from unverified API projects).
    case locked
    /// Shown in this privacy (the platform's own word) instead of the one posted.
    case privacy(String)

    /// The fault's word: `hidden`, `locked`, or a privacy word.
    init(word: String) {
        switch word {
        case "hidden": self = .hidden
        case "locked": self = .locked
        case "", "as_posted": self = .asPosted
        default: self = .privacy(word)
        }
    }
}

/// One post's life as a read finds it now.
package struct PostLife: Sendable, Equatable {
    package var fate: PostFate
    /// The platform took it down after it was published (`takeDown`).
    package var takenDown: Bool
    /// Seconds since the platform took the post, on the sandbox's clock.
    package var age: TimeInterval
    package var numbers: SandboxMetrics

    /// The read finds the post at all.
    package var found: Bool { fate != .hidden && !takenDown }
}

extension SandboxState {
    /// The fates given so far, by `platform/id`, and how far the sandbox's clock is ahead of the wall's.
    struct PostLivesWorld: PlatformWorld {
        var fates: [String: PostFate] = [:]
        var takenDown: Set<String> = []
        var clockShift: TimeInterval = 0
    }

    /// The sandbox's clock: the wall's, moved on by `advanceClock` (metrics grow with it).
    package var now: Date { Date().addingTimeInterval(self[PostLivesWorld.self].clockShift) }

    /// Moves the sandbox's clock on, as if `seconds` had passed for every post.
    package func advanceClock(by seconds: TimeInterval) { self[PostLivesWorld.self].clockShift += seconds }

    /// The platform takes the post down, as its moderation does after a post was up: its reads say so
    /// in the platform's words (YouTube's `uploadStatus: rejected`), or no longer find it.
    package func takeDown(platform: String, id: String) { self[PostLivesWorld.self].takenDown.insert("\(platform)/\(id)") }

    /// The post's life as a read now finds it, or nil when the platform never made it (an unknown id).
    /// A post's fate is given at its first read: the next of `faults.postFates`, else as posted.
    func postLife(platform: String, id: String) -> PostLife? {
        guard let v = videos.last(where: { $0.platform == platform && $0.id == id }) else { return nil }
        let key = "\(platform)/\(id)"
        let fate: PostFate
        if let f = self[PostLivesWorld.self].fates[key] {
            fate = f
        } else {
            fate = faults.postFates.isEmpty ? .asPosted : PostFate(word: faults.postFates.removeFirst())
            self[PostLivesWorld.self].fates[key] = fate
        }
        let age = max(0, now.timeIntervalSince(v.receivedAt))
        return PostLife(fate: fate, takenDown: self[PostLivesWorld.self].takenDown.contains(key), age: age, numbers: SandboxMetrics(id: id, age: age))
    }

    /// The privacy a read shows: the fate's, else what was posted (in the platform's own word).
    func shownPrivacy(_ life: PostLife, posted: String, locked: String = "private") -> String {
        switch life.fate {
        case .privacy(let p): return p
        case .locked: return locked
        default: return posted
        }
    }
}
