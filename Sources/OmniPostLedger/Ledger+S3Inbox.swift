import Foundation
import GRDB

/// The S3 inbox's objects (`s3_inbox_objects`, v17): the first sight of a key and ETag decides its drop —
/// the row's primary key makes a second sight of the same version, on a later listing or after a restart,
/// nothing new — and each step of filing its originals in the bucket is written before it is taken.
extension Ledger {
    /// Records the first sight of a clip's version; false when it was seen before (whatever became of it).
    package func noteS3Object(bucket: String, key: String, etag: String, size: Int64, localPath: String) throws -> Bool {
        try write { db, _ in
            try db.execute(
                sql: """
                    INSERT INTO s3_inbox_objects (bucket, key, etag, size, local_path, state, seen_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, 'waiting', ?, ?) ON CONFLICT (bucket, key, etag) DO NOTHING
                    """, arguments: [bucket, key, etag, size, localPath, self.now, self.now])
            return db.changesCount > 0
        }
    }

    /// The bucket's objects in these states, oldest first.
    package func s3Objects(bucket: String, in states: [S3InboxObject.State]) throws -> [S3InboxObject] {
        try read { db in
            try S3InboxObject.filter(Column("bucket") == bucket && states.map(\.rawValue).contains(Column("state"))).order(Column("seen_at")).fetchAll(db)
        }
    }

    /// The row of one version of a key, if it was ever listed.
    package func s3Object(bucket: String, key: String, etag: String) throws -> S3InboxObject? {
        try read { db in try S3InboxObject.fetchOne(db, key: ["bucket": bucket, "key": key, "etag": etag]) }
    }

    /// Moves a row on, with the sidecar it was paired with and the drop it became where known.
    package func setS3Object(
        bucket: String, key: String, etag: String, state: S3InboxObject.State, sidecar: (key: String, etag: String)? = nil,
        dropId: String? = nil, detail: String? = nil
    ) throws {
        try write { db, _ in
            try db.execute(
                sql: """
                    UPDATE s3_inbox_objects SET state = ?, sidecar_key = COALESCE(?, sidecar_key), sidecar_etag = COALESCE(?, sidecar_etag),
                    drop_id = COALESCE(?, drop_id), detail = ?, updated_at = ? WHERE bucket = ? AND key = ? AND etag = ?
                    """, arguments: [state.rawValue, sidecar?.key, sidecar?.etag, dropId, detail, self.now, bucket, key, etag])
        }
    }
}
