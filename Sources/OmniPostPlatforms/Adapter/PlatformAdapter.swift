import Foundation
import OmniPostCore

/// One upload to perform (or to resume): the file, what to publish, and what the ledger already
/// knows of the remote side from an earlier attempt.
public struct UploadJob: Sendable {
    public var deliveryId: Int64
    public var filePath: String
    public var size: Int64
    public var contentType: String
    public var metadata: PublishMetadata
    /// The persisted remote session from an earlier attempt, if any.
    public var session: String?
    public var confirmedOffset: Int64
    /// A cover image (JPEG) to set where the platform takes one.
    public var coverPath: String?

    public init(deliveryId: Int64, filePath: String, size: Int64, contentType: String = "video/mp4", metadata: PublishMetadata, session: String?, confirmedOffset: Int64, coverPath: String? = nil) {
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

/// A progress report the adapter must make durable before going on: the session before the first
/// byte leaves, the platform-confirmed offset after each acknowledged chunk.
public struct UploadCheckpoint: Sendable {
    public var session: String
    public var confirmedOffset: Int64
    public var bytesSent: Int64
}

public struct PublishOutcome: Sendable, Equatable {
    public var remoteId: String
    public var url: String
    public var bytesSent: Int64
    /// Set when a cover was asked for: whether the platform took it (a failed cover never fails a published post).
    public var coverSet: Bool? = nil
    public var coverError: String? = nil
}

/// What every platform implements (ARCHITECTURE.md, "Platform adapters"). Adapters know nothing of
/// folders or the ledger; they get a job and report checkpoints through the closure.
public protocol PlatformAdapter: Sendable {
    var platform: String { get }

    /// Platform-specific checks on the metadata, run at validate time so a bad title fails before any upload.
    func preflight(_ metadata: PublishMetadata) -> OmniError?

    /// Uploads and publishes, resuming from `job.session` when present (after asking the platform
    /// where it stands — never a blind repeat). `checkpoint` must return before bytes move on.
    func publish(
        _ job: UploadJob,
        checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void,
        progress: @escaping @Sendable (Int64, Int64) -> Void
    ) async throws -> PublishOutcome
}
