import Foundation

/// The S3 inbox's objects (`s3_inbox_objects`, v17): the first sight of a key and ETag decides its drop —
/// the row's primary key makes a second sight of the same version, on a later listing or after a restart,
/// nothing new — and each step of filing its originals in the bucket is written before it is taken.
extension Ledger {
    /// Records the first sight of a clip's version; false when it was seen before (whatever became of it).
    /// On the shared ledger the primary key decides between hosts listing the bucket together: one insert
    /// changes a row, every other finds it there.
    package func noteS3Object(bucket: String, key: String, etag: String, size: Int64, localPath: String) throws -> Bool {
        try writeSQL { sql, _ in
            try sql.run(
                """
                INSERT INTO s3_inbox_objects (bucket, key, etag, size, local_path, state, seen_at, updated_at)
                VALUES (?, ?, ?, ?, ?, 'waiting', ?, ?) ON CONFLICT (bucket, key, etag) DO NOTHING
                """, bucket, key, etag, size, localPath, self.now, self.now) > 0
        }
    }

    /// The bucket's objects in these states, oldest first.
    package func s3Objects(bucket: String, in states: [S3InboxObject.State]) throws -> [S3InboxObject] {
        guard !states.isEmpty else { return [] }
        return try readSQL { sql in
            try sql.fetchAll(
                S3InboxObject.self, "SELECT * FROM s3_inbox_objects WHERE bucket = ? AND state IN (\(sqlMarks(states.count))) ORDER BY seen_at",
                [.text(bucket)] + states.map { .text($0.rawValue) })
        }
    }

    /// The row of one version of a key, if it was ever listed.
    package func s3Object(bucket: String, key: String, etag: String) throws -> S3InboxObject? {
        try readSQL { sql in
            try sql.fetchOne(
                S3InboxObject.self, "SELECT * FROM s3_inbox_objects WHERE bucket = ? AND key = ? AND etag = ?", [.text(bucket), .text(key), .text(etag)])
        }
    }

    /// Moves a row on, with the sidecar it was paired with and the drop it became where known.
    package func setS3Object(
        bucket: String, key: String, etag: String, state: S3InboxObject.State, sidecar: (key: String, etag: String)? = nil,
        dropId: String? = nil, detail: String? = nil
    ) throws {
        try writeSQL { sql, _ in
            try sql.run(
                """
                UPDATE s3_inbox_objects SET state = ?, sidecar_key = COALESCE(?, sidecar_key), sidecar_etag = COALESCE(?, sidecar_etag),
                drop_id = COALESCE(?, drop_id), detail = ?, updated_at = ? WHERE bucket = ? AND key = ? AND etag = ?
                """, state.rawValue, sidecar?.key, sidecar?.etag, dropId, detail, self.now, bucket, key, etag)
        }
    }
}
