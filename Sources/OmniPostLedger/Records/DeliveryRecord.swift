import Foundation
import GRDB
import OmniPostCore

/// One drop × one target: what is sent where, and everything needed to resume or reconcile it.
package struct DeliveryRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "deliveries"
    package static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    package static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    package var id: Int64?
    package var dropId: String
    package var target: String
    package var platform: String
    package var account: String
    package var profile: String
    package var state: DeliveryState
    package var plan: PlanKind
    package var planDetail: String?
    /// Deliveries of one drop with the same key share one rendition (one ffmpeg run).
    package var specKey: String?
    /// The rendition spec (JSON) the convert stage runs.
    package var specJson: String?
    /// Title, description, tags … rendered for this target (JSON of `PublishMetadata`).
    package var metadataJson: String
    /// sha256 of the original clip: content + target is the delivery's identity.
    package var contentSha256: String
    package var renditionPath: String?
    package var renditionSha256: String?
    /// The rendition's XXH3-128, taken in the same read as its sha256 (v22): the upload's changed-file
    /// check. Nil for deliveries from before, which are checked against `renditionSha256`.
    package var renditionXxh3: String?
    package var renditionBytes: Int64?
    /// The cover image to set on the platform (in work/), when the sidecar asks for one.
    package var coverPath: String?
    /// The platform's upload session (e.g. YouTube's session URI), persisted before the first byte.
    package var remoteSession: String?
    package var confirmedOffset: Int64
    package var remoteId: String?
    package var remoteUrl: String?
    package var attempts: Int
    package var notBefore: Double?
    package var errorCode: String?
    package var errorMessage: String?
    package var leaseOwner: String?
    package var leaseExpiry: Double?
    package var createdAt: Double
    package var updatedAt: Double
    package var uploadStartedAt: Double?
    package var uploadFinishedAt: Double?
    package var bytesSent: Int64
    /// Higher is uploaded first.
    package var priority: Int = 0
    /// When the post goes public: natively on the platform, or by OmniPost holding the upload until then.
    package var scheduledAt: Double?
    /// The pipeline slot this delivery's drop took (`publish_at: next_slot`).
    package var slotAt: Double?
    /// What holds the delivery back while `not_before` is in the future: schedule, quota, breaker, retry.
    package var gate: String?
    /// What a person's retry asked of `remoteSession` (nil: resume it as usual). See `SessionPolicy`.
    package var sessionPolicy: SessionPolicy?

    package init(
        dropId: String, target: String, platform: String, account: String, profile: String, state: DeliveryState,
        plan: PlanKind, planDetail: String?, specKey: String?, metadataJson: String, contentSha256: String,
        notBefore: Double?, now: Double
    ) {
        self.dropId = dropId
        self.target = target
        self.platform = platform
        self.account = account
        self.profile = profile
        self.state = state
        self.plan = plan
        self.planDetail = planDetail
        self.specKey = specKey
        self.metadataJson = metadataJson
        self.contentSha256 = contentSha256
        self.confirmedOffset = 0
        self.attempts = 0
        self.notBefore = notBefore
        self.createdAt = now
        self.updatedAt = now
        self.bytesSent = 0
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// What a retry asked of a delivery's platform session. A session is never dropped blindly — it may be
/// a post — but once the platform says it failed, a person's retry means "upload it again".
package enum SessionPolicy: String, Sendable, Codable, CaseIterable {
    /// Retried while its drop is in flight: reconcile; a post found is recorded, a session still good is
    /// resumed (same rendition, same bytes), one the platform failed is replaced by a new upload.
    case retry
    /// Handed over from an earlier drop of the same content (`omnipost retry` on a finished drop): reconcile;
    /// a post found is recorded, one still processing is waited for, anything else starts a new upload
    /// (the rendition was made again, so the old session's bytes are not resumed).
    case carried
    /// On a failed delivery of a finished drop that was retried: the next drop of the same content takes
    /// its session over (and it stops counting as a possible post of its own).
    case handover
}
