import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// The file a finished drop leaves in the outbox: `<drop>.result.json` on success,
/// `failed/<drop>.failure.json` otherwise. Upstream tools read these, so field names are stable.
struct DropReport: Codable, Sendable {
    struct Reason: Codable, Sendable {
        var code: String
        var message: String
        var location: String?
    }
    struct Timings: Codable, Sendable {
        var receivedAt: Date
        var uploadStartedAt: Date?
        var uploadFinishedAt: Date?
        var uploadSeconds: Double?
        var finishedAt: Date
    }
    struct Target: Codable, Sendable {
        var target: String
        var platform: String
        var account: String
        var state: String
        var plan: String
        var planDetail: String?
        var remoteId: String?
        var url: String?
        /// Bytes and sha256 of exactly what was sent (the rendition).
        var bytes: Int64?
        var sha256: String?
        var bytesSent: Int64
        var attempts: Int
        var error: Reason?
        var timings: Timings
        /// The text this target publishes (templates filled, overrides applied), and which of it a
        /// language model wrote (`ai:`) or why its text was not used.
        var text: Text?
        /// Whether the platform's own read showed the post as asked (README, "After the post"): pending
        /// while it is read back, then verified — or the alert's reason. Rewritten when it settles.
        var verified: Verified?
        /// What the post was owed after it (a subtitle track, a playlist entry, a first comment), each with
        /// where it stands: `intended` (asked, its answer not yet kept), `made` with the platform's id, or
        /// `failed` with why (the post stands).
        var followUps: [FollowUpView]?
    }
    struct FollowUpView: Codable, Sendable {
        var kind: String
        var key: String
        var state: String
        var remoteId: String?
        var reason: String?
        init(_ r: FollowUpRecord) {
            kind = r.kind
            key = r.key
            state = r.state.rawValue
            remoteId = r.remoteId
            reason = r.state == .failed ? r.detail : nil
        }
    }
    struct Verified: Codable, Sendable {
        /// `pending`, `verified`, `failed`, `not_applicable`.
        var state: String
        var at: Date?
        /// What the read showed (the platform's own words).
        var saw: String?
        var reason: Reason?
    }
    /// A drop that waited for approval: when it was approved, and the ledger's words for it (who, the
    /// edits, the note).
    struct Approval: Codable, Sendable {
        var at: Date
        var said: String
    }
    struct Text: Codable, Sendable {
        var title: String
        var description: String
        var tags: [String]
        var writtenBy: TextWriter?
    }

    var dropId: String
    var pipeline: String
    var state: String
    var clip: String?
    var sidecar: String?
    var sha256: String?
    var bytes: Int64?
    var reason: Reason?
    var duplicateOf: String?
    /// Where the originals are now, relative to the pipeline root.
    var originals: String
    /// Originals that were not filed there, each with why (gone from where they were taken, their
    /// folder swapped for a link, changed since): absent when every original was filed.
    var notFiled: [String]?
    var targets: [Target]
    var approval: Approval?
    var receivedAt: Date
    var finishedAt: Date

    init(
        drop: DropRecord, deliveries: [DeliveryRecord], state: String, originals: String, finishedAt: Date,
        checks: [Int64: PostCheckRecord] = [:], followUps: [Int64: [FollowUpRecord]] = [:]
    ) {
        dropId = drop.id
        pipeline = drop.pipeline
        self.state = state
        clip = drop.clipPath
        sidecar = drop.sidecarPath
        sha256 = drop.clipSha256
        bytes = drop.clipBytes
        duplicateOf = drop.duplicateOf
        if let code = drop.reasonCode {
            reason = Reason(code: code, message: drop.reasonMessage ?? "", location: drop.reasonLocation)
        }
        self.originals = originals
        receivedAt = Date(timeIntervalSince1970: drop.createdAt)
        self.finishedAt = finishedAt
        targets = deliveries.map { d in
            let started = d.uploadStartedAt.map { Date(timeIntervalSince1970: $0) }
            let finished = d.uploadFinishedAt.map { Date(timeIntervalSince1970: $0) }
            return Target(
                target: d.target, platform: d.platform, account: d.account, state: d.state.rawValue, plan: d.plan.rawValue,
                planDetail: d.planDetail, remoteId: d.remoteId, url: d.remoteUrl, bytes: d.renditionBytes, sha256: d.renditionSha256,
                bytesSent: d.bytesSent, attempts: d.attempts,
                error: d.errorCode.map { Reason(code: $0, message: d.errorMessage ?? "", location: nil) },
                timings: Timings(
                    receivedAt: Date(timeIntervalSince1970: drop.createdAt), uploadStartedAt: started, uploadFinishedAt: finished,
                    uploadSeconds: started.flatMap { s in finished.map { $0.timeIntervalSince(s) } }, finishedAt: finishedAt),
                text: (try? d.metadata).map { Text(title: $0.title, description: $0.description, tags: $0.tags, writtenBy: $0.writer) },
                verified: d.id.flatMap { checks[$0] }.map(Verified.init)
                    ?? (d.state == .published ? Verified(state: PostCheckRecord.State.pending.rawValue) : nil),
                followUps: d.id.flatMap { followUps[$0] }.map { $0.map(FollowUpView.init) })
        }
    }

    func write(to url: URL) throws {
        try SafeFiles.writeAtomically(try encoded(), to: url)
    }

    /// The report's bytes, as `write` puts them in a file.
    func encoded() throws -> Data { try JSONCoding.encoder().encode(self) }
}
