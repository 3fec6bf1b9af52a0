import Foundation
import OmniPostCore

/// One upload to perform (or to resume): the file, what to publish, and what the ledger already
/// knows of the remote side from an earlier attempt.
package struct UploadJob: Sendable {
    package var deliveryId: Int64
    package var filePath: String
    package var size: Int64
    package var contentType: String
    package var metadata: PublishMetadata
    /// The persisted remote session from an earlier attempt, if any.
    package var session: String?
    package var confirmedOffset: Int64
    /// A cover image (JPEG) to set where the platform takes one.
    package var coverPath: String?
    /// The sha256 recorded for the file when it was taken (or rendered): its identity, handed to the
    /// protocols that name it (S3's metadata, tus's, a folder's or Threads' check, Reddit's). The
    /// changed-file check uses it only when there is no `expectedDigest` (a row from before ledger v22).
    package var expectedSha256: String?
    /// The fast digest recorded beside the sha256 in the same read (XXH3-128, ledger v22): what the bytes
    /// read are checked against before the last chunk leaves (`PinnedReader`).
    package var expectedDigest: FileDigest?
    /// What the changed-file check compares the bytes read with: the fast digest, else the sha256. Nil:
    /// not checked.
    package var changeCheck: FileDigest? {
        if let d = expectedDigest, !d.hex.isEmpty { return d }
        return expectedSha256.flatMap { $0.isEmpty ? nil : FileDigest(.sha256, $0) }
    }
    /// Called right before a rate-limited request leaves (`"init"`): returns once the platform's
    /// request window has room, having counted this request in it. The upload stage meters it in the
    /// ledger; alone (tests, tools) it lets everything through.
    package var beforeRequest: @Sendable (String) async throws -> Void = { _ in }
    /// Called with a limit the platform reports at run time for one of its quota rules (Instagram's
    /// `content_publishing_limit` for `posts`): the upload stage records it, and the queue gate holds
    /// the account to it.
    package var reportLimit: @Sendable (_ rule: String, _ limit: Int) -> Void = { _, _ in }
    /// The drop this delivery is of: what destinations name and describe what they store by (an S3
    /// key template, a folder's file name, a webhook's and a command's JSON). Nil outside a pipeline.
    package var drop: DropFacts? = nil
    /// The clip's display size (rotation applied), for platforms that are told the aspect ratio (Bluesky).
    package var frame: (width: Int, height: Int)? = nil
    /// The clip's length in seconds, for platforms whose account has a limit of its own (TikTok's
    /// `max_video_post_duration_sec` per creator).
    package var durationS: Double? = nil
    /// What to do with `session` once reconciled: resume it (always, unless a person retried the delivery).
    package var sessionReuse: SessionReuse = .resume
    /// A folder of the daemon's own (the drop's work/ folder) for private names of the file (a command
    /// target is handed one), made by the adapter that puts a name in it. Nil: the system's temporary folder.
    package var scratchDirectory: String? = nil

    package init(
        deliveryId: Int64, filePath: String, size: Int64, contentType: String = "video/mp4", metadata: PublishMetadata, session: String?, confirmedOffset: Int64,
        coverPath: String? = nil
    ) {
        self.coverPath = coverPath
        self.deliveryId = deliveryId
        self.filePath = filePath
        self.size = size
        self.contentType = contentType
        self.metadata = metadata
        self.session = session
        self.confirmedOffset = confirmedOffset
    }
}

/// What a delivery's drop is, as the ledger knows it.
package struct DropFacts: Sendable, Equatable {
    package var dropId: String
    /// The target's name (`s3:archive`).
    package var target: String
    /// The drop's name: the clip's file name without its extension.
    package var stem: String
    /// The clip as it was dropped, relative to the inbox.
    package var source: String
    /// The sidecar's path while the drop is in flight, if it came with one.
    package var sidecarPath: String?
    /// When the drop was taken.
    package var takenAt: Date
    /// The original clip's sha256.
    package var sourceSha256: String?

    package init(dropId: String, target: String, stem: String, source: String, sidecarPath: String? = nil, takenAt: Date, sourceSha256: String? = nil) {
        self.dropId = dropId
        self.target = target
        self.stem = stem
        self.source = source
        self.sidecarPath = sidecarPath
        self.takenAt = takenAt
        self.sourceSha256 = sourceSha256
    }
}

/// A progress report the adapter must make durable before going on: the session before the first
/// byte leaves, the platform-confirmed offset after each acknowledged chunk.
package struct UploadCheckpoint: Sendable {
    package var session: String
    package var confirmedOffset: Int64
    package var bytesSent: Int64
    /// Whether the record must also survive a power cut, not only a killed process, before the adapter
    /// goes on: true for a session, a phase, a marker — what the next request may make a post of, and
    /// what a restart must find to reconcile instead of posting again. False only for a part's confirmed
    /// offset, which a resume may lose and ask the platform for (or send the part again, which every
    /// transport defines as safe). The ledger syncs its log for the first kind (docs/upload-engine.md).
    package var durable: Bool = true
}

package struct PublishOutcome: Sendable, Equatable {
    package var remoteId: String
    package var url: String
    package var bytesSent: Int64
    /// Set when a cover was asked for: whether the platform took it (a failed cover never fails a published post).
    package var coverSet: Bool? = nil
    package var coverError: String? = nil
    /// Found published by `reconcile`: nothing was sent this time.
    package var reconciled = false
    /// A retried delivery's earlier session that could not become a post (why), replaced by a new upload.
    package var replacedSession: String? = nil
}

/// What a delivery does with its persisted session after `reconcile`. A session may already be a post,
/// so it is always reconciled first; only a person's retry lets one the platform gave up be replaced.
package enum SessionReuse: Sendable, Equatable {
    /// Continue it: the usual case (a crash, a lost reply, a restart).
    case resume
    /// Retried while its drop is in flight: resume a session that is still good; one the platform failed
    /// (reconcile throws a permanent error) never becomes a post, so a new upload starts from the local bytes.
    case replaceIfFailed
    /// Handed over from an earlier drop (the rendition was made again): a post found is recorded and one
    /// still processing is waited for; anything else — partial, unknown, failed — starts a new upload.
    case replaceUnlessLive
}

/// Where an earlier, interrupted upload stands on the platform, as `reconcile` finds out.
package enum RemoteState: Sendable, Equatable {
    /// The platform does not know the session, or it expired before completing: start afresh (no post can come of it).
    case notStarted
    /// The platform holds this many bytes: continue from there.
    case partial(confirmedOffset: Int64)
    /// Every byte arrived; the platform is still processing or publishing.
    case processing
    /// It is published already: record it, send nothing.
    case published(PublishOutcome)
}

/// What every platform implements (ARCHITECTURE.md, "Platform adapters"). Adapters know nothing of
/// folders or the ledger; they get a job and report checkpoints through the closure.
package protocol PlatformAdapter: Sendable {
    var platform: String { get }

    /// The platform's checks on the metadata that are not data (a name template's form, a subreddit's
    /// spelling, a media host to fetch from). Its privacy words, option values and text limits are data
    /// (descriptor and profile) and `preflight` applies them before asking this.
    func platformChecks(_ metadata: PublishMetadata) -> OmniError?

    /// Whether the platform publishes at `metadata.publishAt` by itself (YouTube's publishAt); otherwise
    /// OmniPost holds the delivery until its time.
    var schedulesNatively: Bool { get }

    /// Asks the platform what became of the persisted session in `job` (after a crash, a lost reply, a
    /// restart) — never a blind repeat. Throws a permanent `DeliveryError` when the platform failed it.
    func reconcile(_ job: UploadJob) async throws -> RemoteState

    /// Uploads and publishes. With `job.session` set, continues that session from `job.confirmedOffset`
    /// (the position `reconcile` reported). `checkpoint` must return before bytes move on.
    func publish(
        _ job: UploadJob,
        checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void,
        progress: @escaping @Sendable (Int64, Int64) -> Void
    ) async throws -> PublishOutcome

    /// Gives up the persisted session in `job` (the delivery was cancelled), where the platform can
    /// say for sure that it never became a post and never will: true when it is gone (an S3 multipart
    /// upload aborted, its parts freed). False — the default — when that cannot be known: the cancel
    /// is refused, since a session may already be a post.
    func abandon(_ job: UploadJob) async throws -> Bool

    /// Reads published posts back through the platform's own read endpoint (YouTube's `videos.list`,
    /// X's post lookup, S3's `HEAD`…), at most `descriptor.readBack.batch` at a time: what it shows of
    /// each, by `remoteId`, with its numbers where the same read has them. A post the platform does not
    /// know is `.absent`, never an error; a refused read throws a `DeliveryError` as an upload would. A
    /// target with nothing to read (`ReadBack.notApplicable`) answers every post `.seen` from what it knows.
    func readBack(_ posts: [PostRef]) async throws -> [String: Sighting]

    /// Reads posts' numbers from the platform's second API (`descriptor.insights`: YouTube Analytics, a Graph
    /// media's insights…), at most `insights.batch` at a time, by `remoteId`; a post it has no numbers for
    /// yet is left out. A grant without the API's permission throws a `DeliveryError` with
    /// `.insightsNotGranted`. The default, for a platform with no such API, reads nothing.
    func readInsights(_ posts: [PostRef]) async throws -> [String: PostMetrics]
}

extension PlatformAdapter {
    package func readInsights(_ posts: [PostRef]) async throws -> [String: PostMetrics] { [:] }
    package func abandon(_ job: UploadJob) async throws -> Bool { false }
    package func platformChecks(_ metadata: PublishMetadata) -> OmniError? { nil }
}
