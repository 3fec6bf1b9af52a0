import Foundation
import GRDB
import OmniPostCore
@testable import OmniPostLedger
import Testing

/// A ledger from before "after the post" (issue 25): a file made by the migrations up to v12, with rows,
/// opened by the current code — v13 (post_checks, post_metrics), v14 (follow_ups) and v15 (reach,
/// insight_refusals) run once, every row is still there, and the posts published before are entered as
/// `not_applicable` (nobody asked for them to be read back).
@Suite struct LedgerUpgradeTests {
    @Test func aV12LedgerWithRowsOpensWithItsRowsIntactAndTheNewTables() throws {
        let dir = try TempDir()
        let path = dir.file("ledger.sqlite").path
        do {
            let old = try DatabaseQueue(path: path)
            try Ledger.migrator.migrate(old, upTo: "v12")
            try old.write { db in
                try db.execute(
                    sql: "INSERT INTO drops (id, pipeline, stem, state, created_at, updated_at) VALUES ('d1', 'p', 'clip', 'archived', 1000, 1000)")
                for (id, state, remote) in [(1, "published", "yt1"), (2, "failed", nil)] as [(Int, String, String?)] {
                    try db.execute(
                        sql: """
                            INSERT INTO deliveries (id, drop_id, target, platform, account, profile, state, plan, metadata_json, content_sha256,
                                remote_id, remote_url, created_at, updated_at, upload_started_at, upload_finished_at, bytes_sent)
                            VALUES (?, 'd1', ?, 'youtube', 'main', 'youtube', ?, 'pass', '{}', 'sha', ?, ?, 1000, 1100, 1010, 1090, 4096)
                            """, arguments: [id, id == 1 ? "youtube:main" : "shorts:main", state, remote, remote.map { "https://youtu.be/\($0)" }])
                }
                try db.execute(sql: "INSERT INTO events (at, drop_id, stage, to_state, detail) VALUES (1000, 'd1', 'watch', 'complete', 'old event')")
                try db.execute(
                    sql: "INSERT INTO written_texts (drop_id, target, model, request, answer, created_at) VALUES ('d1', 'youtube:main', 'm', 'q', 'a', 1000)")
                let applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
                #expect(applied.last == "v12" && !applied.contains("v13"))
            }
        }
        let ledger = try Ledger(path: path)
        try ledger.read { db in
            let applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
            // Every migration after v12, in order, whatever comes later.
            #expect(Array(applied.drop { $0 != "v13" }.prefix(4)) == ["v13", "v14", "v15", "v16"], "\(applied)")
            for table in ["post_checks", "post_metrics", "follow_ups", "insight_refusals", "remote_names"] {
                #expect(try db.tableExists(table), "\(table)")
            }
            #expect(try db.columns(in: "post_metrics").map(\.name).contains("reach"))
            #expect(try String.fetchOne(db, sql: "SELECT detail FROM events WHERE drop_id = 'd1'") == "old event")
            #expect(try String.fetchOne(db, sql: "SELECT answer FROM written_texts") == "a")
        }
        // The rows as the current code reads them.
        #expect(try ledger.drop("d1")?.stem == "clip")
        let published = try #require(try ledger.delivery(1))
        #expect(published.state == .published && published.remoteId == "yt1" && published.remoteUrl == "https://youtu.be/yt1" && published.bytesSent == 4096)
        #expect(try ledger.delivery(2)?.state == .failed)
        // Published before v13: entered as not applicable, never read back; the failed one is not entered.
        let check = try #require(try ledger.postCheck(deliveryId: 1))
        #expect(check.state == .notApplicable && check.metricsState == .none && check.nextReadAt == nil && check.publishedAt == 1090)
        #expect(try ledger.postCheck(deliveryId: 2) == nil)
        #expect(try ledger.enrolPublishedPosts() == 0, "nothing to enter again")
        // The new tables take rows.
        try ledger.recordPostRead(check, metrics: PostMetrics(views: 10, reach: 7), event: nil)
        #expect(try ledger.postMetrics(deliveryId: 1).first?.metrics.reach == 7)
        #expect(try ledger.recordInsightRefusal(account: "youtube:main", api: "a", detail: "d", deliveryId: 1))
        #expect(try ledger.recordInsightRefusal(account: "youtube:main", api: "a", detail: "d", deliveryId: 1) == false, "once")
    }
}
