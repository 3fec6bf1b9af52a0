import Foundation
import GRDB

/// One object of the S3 inbox, by its key and ETag (a new version of a key is a new row): the clip and
/// the sidecar paired with it, where they were handed to the folder inbox, and how far filing them in
/// the bucket went.
package struct S3InboxObject: Codable, FetchableRecord, PersistableRecord, Sendable, Equatable {
    package static let databaseTableName = "s3_inbox_objects"

    /// Listed and waiting for its sidecar (or the sidecar's grace) → downloaded and handed to the folder
    /// inbox → its drop filed, the originals being copied to archive/ or failed/ → copied, verified and
    /// deleted at the source.
    package enum State: String, Codable, Sendable, CaseIterable { case waiting, handed, archiving, failing, archived, failed }

    package var bucket: String
    package var key: String
    package var etag: String
    package var size: Int64
    package var sidecarKey: String?
    package var sidecarEtag: String?
    /// The clip's path in the folder inbox (its key without the inbox prefix).
    package var localPath: String
    package var state: State
    package var dropId: String?
    package var detail: String?
    package var seenAt: Double
    package var updatedAt: Double

    enum CodingKeys: String, CodingKey {
        case bucket, key, etag, size, state, detail
        case sidecarKey = "sidecar_key", sidecarEtag = "sidecar_etag", localPath = "local_path", dropId = "drop_id"
        case seenAt = "seen_at", updatedAt = "updated_at"
    }

    /// The table, in SQLite's words (`postgres`: PostgreSQL's, by docs/ledger.md's one rule: INTEGER is
    /// BIGINT, REAL is DOUBLE PRECISION).
    static func createTable(postgres: Bool) -> String {
        let text = """
            CREATE TABLE s3_inbox_objects (
              bucket TEXT NOT NULL,
              key TEXT NOT NULL,
              etag TEXT NOT NULL,
              size INTEGER NOT NULL,
              sidecar_key TEXT,
              sidecar_etag TEXT,
              local_path TEXT NOT NULL,
              state TEXT NOT NULL CHECK (state IN ('waiting', 'handed', 'archiving', 'failing', 'archived', 'failed')),
              drop_id TEXT,
              detail TEXT,
              seen_at REAL NOT NULL,
              updated_at REAL NOT NULL,
              PRIMARY KEY (bucket, key, etag)
            )
            """
        return postgres ? text.replacingOccurrences(of: " INTEGER ", with: " BIGINT ").replacingOccurrences(of: " REAL ", with: " DOUBLE PRECISION ") : text
    }
}
