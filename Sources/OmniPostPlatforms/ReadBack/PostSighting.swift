import Foundation
import OmniPostCore

/// A published post to read back: its id and link as the publish call answered, and what was asked of it.
package struct PostRef: Sendable, Equatable {
    package var remoteId: String
    package var url: String
    /// The privacy the sidecar asked for.
    package var asked: Privacy
    /// When it was to go public, where the platform schedules it.
    package var publishAt: Date?

    package init(remoteId: String, url: String, asked: Privacy, publishAt: Date? = nil) {
        self.remoteId = remoteId
        self.url = url
        self.asked = asked
        self.publishAt = publishAt
    }
}

/// What the platform's read endpoint answered for one post.
package enum Sighting: Sendable, Equatable {
    /// It is there, in the state `SeenPost` describes.
    case seen(SeenPost)
    /// The platform does not show it (not yet, or no longer): its answer was "not found".
    case absent(String)
    /// The platform says it removed or rejected it, in these words.
    case removed(String)
}

/// How a platform's posts are read back, as descriptor data: how many ids one read takes, what one read
/// costs against the account's quota, or why there is nothing to read.
package enum ReadBack: Sendable {
    /// `batch` ids a read (YouTube's `videos.list`: 50); `cost` units each read spends from the account's
    /// quota rule named `rule` (YouTube: 1 of `upload_units`), shown in the quota meters; nil: counted nowhere.
    case reads(batch: Int, cost: Int, rule: String? = nil)
    /// There is no read endpoint for what this target makes, and why (a webhook's receiver keeps nothing to ask).
    case notApplicable(String)
    /// A look at what this host wrote (a folder's file): it asks nobody and costs nothing, so the first
    /// read is made as the post is recorded, in the same commit (`UploadStage`), and the drop's result is
    /// written with it; any later read is the verify stage's, as for `reads`.
    case local

    package var batch: Int {
        if case .reads(let b, _, _) = self { return max(1, b) }
        return 1
    }
    /// The quota rule a read spends from, and how many units.
    package var quota: (rule: String, cost: Int)? {
        if case .reads(_, let cost, let rule?) = self, cost > 0 { return (rule, cost) }
        return nil
    }
    package var reason: String? {
        if case .notApplicable(let r) = self { return r }
        return nil
    }
    /// Whether the first read is made as the post is recorded: nothing to read, or a local look.
    package var settlesAtPublish: Bool {
        switch self {
        case .local, .notApplicable: true
        case .reads: false
        }
    }
}
