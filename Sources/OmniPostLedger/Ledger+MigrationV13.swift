import GRDB

extension Ledger {
    /// `post_checks`: one row per published delivery — where its read-back stands (`pending` until the
    /// platform shows it as asked, then `verified`; `failed` with a reason code; `not_applicable` for a
    /// target with nothing to read) and when its next read and its next numbers are due. `post_metrics`:
    /// the numbers each read found, a time series per delivery. Deliveries published before this version
    /// are entered as `not_applicable`: nobody asked for them to be read back when they went out.
    static func migrateV13(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE post_checks (
                    delivery_id INTEGER PRIMARY KEY REFERENCES deliveries(id),
                    target TEXT NOT NULL,
                    platform TEXT NOT NULL,
                    account TEXT NOT NULL,
                    remote_id TEXT NOT NULL,
                    published_at REAL NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('pending', 'verified', 'failed', 'not_applicable')),
                    reason_code TEXT,
                    detail TEXT,
                    seen_json TEXT,
                    reads INTEGER NOT NULL DEFAULT 0,
                    shown INTEGER NOT NULL DEFAULT 0,
                    next_read_at REAL,
                    verified_at REAL,
                    metrics_state TEXT NOT NULL DEFAULT 'waiting'
                        CHECK (metrics_state IN ('waiting', 'collecting', 'done', 'removed', 'private', 'none')),
                    metrics_step INTEGER NOT NULL DEFAULT 0,
                    next_metrics_at REAL,
                    updated_at REAL NOT NULL
                );
                CREATE INDEX post_checks_read_due ON post_checks(next_read_at) WHERE next_read_at IS NOT NULL;
                CREATE INDEX post_checks_metrics_due ON post_checks(next_metrics_at) WHERE next_metrics_at IS NOT NULL;
                CREATE TABLE post_metrics (
                    delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
                    at REAL NOT NULL,
                    age_seconds REAL NOT NULL,
                    views INTEGER,
                    likes INTEGER,
                    comments INTEGER,
                    shares INTEGER,
                    saves INTEGER,
                    watch_seconds REAL,
                    average_view_seconds REAL,
                    PRIMARY KEY (delivery_id, at)
                );
                INSERT INTO post_checks (delivery_id, target, platform, account, remote_id, published_at, state, detail, metrics_state, updated_at)
                    SELECT id, target, platform, account, COALESCE(remote_id, ''), COALESCE(upload_finished_at, updated_at), 'not_applicable',
                        'published before OmniPost read posts back', 'none', updated_at
                    FROM deliveries WHERE state = 'published';
                """)
    }
}
