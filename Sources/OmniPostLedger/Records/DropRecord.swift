import Foundation
import GRDB

/// A drop: one clip (plus its sidecar) on its way through the pipeline.
public struct DropRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "drops"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: String
    public var pipeline: String
    public var stem: String
    /// Paths relative to the inbox.
    public var clipPath: String?
    public var sidecarPath: String?
    /// For drops from a clip-list manifest: the manifest's file row and the entry's index.
    public var sourceFileId: Int64?
    public var manifestEntry: Int?
    public var clipSha256: String?
    public var clipBytes: Int64?
    public var state: DropState
    public var reasonCode: String?
    public var reasonMessage: String?
    public var reasonLocation: String?
    public var manifestJson: String?
    public var probeJson: String?
    /// Other originals the drop uses (a cover image, slideshow images, audio), inbox-relative, as a JSON array:
    /// they are archived or quarantined with the drop.
    public var assetsJson: String?
    public var duplicateOf: String?
    /// Times a process crashed (a trap, not a kill) while holding this drop's lease.
    public var crashes: Int = 0
    /// `device:inode:size:mtime` of the clip when its sha256 was taken.
    public var clipIdentity: String?
    public var leaseOwner: String?
    public var leaseExpiry: Double?
    public var createdAt: Double
    public var updatedAt: Double
    public var finishedAt: Double?


    public init(id: String, pipeline: String, stem: String, clipPath: String?, sidecarPath: String?, now: Double) {
        self.id = id
        self.pipeline = pipeline
        self.stem = stem
        self.clipPath = clipPath
        self.sidecarPath = sidecarPath
        self.state = .received
        self.createdAt = now
        self.updatedAt = now
    }
}
