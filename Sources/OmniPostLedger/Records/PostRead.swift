import Foundation
import OmniPostCore

/// One read of a published post, as the ledger keeps it: the read-back's new standing, the numbers the
/// read showed, and — when the verification settled — the event that says so (`verify` → `verified` /
/// `not_verified`). The verify stage records its reads one by one (`recordPostRead`); the first read of a
/// post that asks nobody (a folder's file, a target with nothing to read) goes with the post itself
/// (`transitionDelivery(… firstRead:)`).
package struct PostRead: Sendable {
    package var check: PostCheckRecord
    package var metrics: PostMetrics?
    package var event: (kind: EventKind, detail: String)?

    package init(check: PostCheckRecord, metrics: PostMetrics? = nil, event: (kind: EventKind, detail: String)? = nil) {
        self.check = check
        self.metrics = metrics
        self.event = event
    }
}
