import GRDB

/// v18 (issue 27, several hosts): a file becomes a drop once across hosts, and a drop is filed once.
/// The same statements, types mapped, are PostgreSQL's v18 (`PostgresSchema.v18`).
extension Ledger {
    /// A file's identity — its path, inode, size and modification time, as every host sees them on the
    /// shared inbox (NFS gives each client the server's inode numbers and times) — is unique among the
    /// files not yet gone: two hosts recording the same file make one row, decided by the database
    /// (`recordFile` inserts `ON CONFLICT DO NOTHING`). Before the key is made, an older row of an
    /// identity recorded twice (a ledger written before the key) is marked gone: the newest stands for it.
    static let v18FileIdentity = [
        """
        UPDATE files SET state = 'gone' WHERE state IN ('waiting','taken')
          AND id NOT IN (SELECT MAX(id) FROM files WHERE state IN ('waiting','taken') GROUP BY path, inode, size, mtime)
        """,
        "CREATE UNIQUE INDEX files_identity ON files(path, inode, size, mtime) WHERE state IN ('waiting','taken')"
    ]

    /// Who files a drop away, and where: claimed before the first original moves (Ledger+Filing.swift).
    /// A host that took over a filing reads `folder` here rather than decide again, so a move one host
    /// began is never contradicted by another; `lease_until` is renewed by the filer's heartbeat.
    static func v18Filings(postgres: Bool) -> String {
        let real = postgres ? "DOUBLE PRECISION" : "REAL"
        return """
            CREATE TABLE drop_filings (
              drop_id TEXT PRIMARY KEY REFERENCES drops(id) ON DELETE CASCADE,
              owner TEXT NOT NULL,
              host TEXT NOT NULL,
              folder TEXT NOT NULL,
              started_at \(real) NOT NULL,
              lease_until \(real) NOT NULL,
              done_at \(real)
            )
            """
    }

    static func migrateV18(_ db: Database) throws {
        for statement in v18FileIdentity { try db.execute(sql: statement) }
        try db.execute(sql: v18Filings(postgres: false))
    }
}
