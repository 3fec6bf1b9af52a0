import Foundation
import GRDB

/// A drop: one clip (plus its sidecar) on its way through the pipeline.
package struct DropRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    package static let databaseTableName = "drops"
    package static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    package static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    package var id: String
    package var pipeline: String
    package var stem: String
    /// Paths relative to the inbox.
    package var clipPath: String?
    package var sidecarPath: String?
    /// For drops from a clip-list manifest: the manifest's file row and the entry's index.
    package var sourceFileId: Int64?
    package var manifestEntry: Int?
    package var clipSha256: String?
    /// The clip's XXH3-128 (xxHash's canonical hex), taken in the same read as its sha256 (v22): what a
    /// pass-through upload's changed-file check hashes with. Nil for drops from before, and slideshows.
    package var clipXxh3: String?
    package var clipBytes: Int64?
    package var state: DropState
    package var reasonCode: String?
    package var reasonMessage: String?
    package var reasonLocation: String?
    package var manifestJson: String?
    package var probeJson: String?
    /// Other originals the drop uses (a cover image, slideshow images, audio), inbox-relative, as a JSON array:
    /// they are archived or quarantined with the drop.
    package var assetsJson: String?
    package var duplicateOf: String?
    /// Times a process crashed (a trap, not a kill) while holding this drop's lease.
    package var crashes: Int = 0
    /// `device:inode:size:mtime` of the clip when its sha256 was taken.
    package var clipIdentity: String?
    package var leaseOwner: String?
    package var leaseExpiry: Double?
    package var createdAt: Double
    package var updatedAt: Double
    package var finishedAt: Double?

    package init(id: String, pipeline: String, stem: String, clipPath: String?, sidecarPath: String?, now: Double) {
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
