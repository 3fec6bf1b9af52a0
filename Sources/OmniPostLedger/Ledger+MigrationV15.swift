import GRDB

extension Ledger {
    /// `post_metrics.reach`: accounts that saw a post, as its platform's insights give it (Instagram). It is
    /// not a count of views, so it has a column of its own rather than being folded into `views`.
    /// `insight_refusals`: an account whose grant lacks the permission a platform's second API needs
    /// (YouTube's `yt-analytics.readonly`, Instagram's `instagram_business_manage_insights`…) — recorded
    /// once, with the platform's words, and not asked again until the account is connected anew.
    static func migrateV15(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE post_metrics ADD COLUMN reach INTEGER;
                CREATE TABLE insight_refusals (
                    account TEXT PRIMARY KEY,
                    api TEXT NOT NULL,
                    reason_code TEXT NOT NULL,
                    detail TEXT NOT NULL,
                    at REAL NOT NULL
                );
                """)
    }
}
