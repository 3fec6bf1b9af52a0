import Foundation
import GRDB
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import OmniPostPlatforms
import Testing

/// `omnipost stats` on a fixture ledger whose answer is known (issue 25): success rate, nearest-rank
/// median and p95 upload time and speed, rate-limit hits, failures by reason, last success, each post's
/// latest numbers and engagement rate, and the best hour of the week — the better-rated hour with one
/// post is not recommended; the one with three posts is.
@Suite struct StatsTests {
    /// Monday 2026-11-30 00:00 UTC.
    static let monday = 1_795_996_800.0

    /// A ledger with: youtube:main — four uploads published Monday 09:10/09:20/09:40 and Tuesday 15:05,
    /// taking 10, 20, 30 and 40 s for 100 MB each, one failed (rejected_by_platform), two rate-limited
    /// attempts; x:main — one published. Each YouTube post's numbers read twice (the later one counts).
    static func fixture(_ dir: TempDir) throws -> Ledger {
        let ledger = try Ledger(path: dir.file("ledger.sqlite").path)
        try plant(ledger)
        return ledger
    }

    /// The fixture's rows, written on either backend (`LedgerFamiliesTests` reads them on both).
    static func plant(_ ledger: Ledger) throws {
        let m = monday
        try ledger.writeSQL { sql, _ in
            try sql.run("INSERT INTO drops (id, pipeline, stem, state, created_at, updated_at) VALUES ('d1', 'p', 'clip', 'archived', ?, ?)", m, m)
            func delivery(_ id: Int64, _ target: String, _ state: String, started: Double?, seconds: Double?, error: String? = nil) throws {
                let (platform, account) = (String(target.split(separator: ":")[0]), String(target.split(separator: ":")[1]))
                try sql.run(
                    """
                    INSERT INTO deliveries (id, drop_id, target, platform, account, profile, state, plan, metadata_json, content_sha256, remote_id,
                        error_code, created_at, updated_at, upload_started_at, upload_finished_at, bytes_sent)
                    VALUES (?, 'd1', ?, ?, ?, ?, ?, 'pass', '{}', ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .integer(id), .text(target + "-\(id)"), .text(platform), .text(account), .text(platform), .text(state), .text("sha\(id)"),
                        state == "published" ? .text("post\(id)") : .null, error.sqlValue, .real(m), .real((started ?? m + 86_400 * 2) + (seconds ?? 0)),
                        started.sqlValue, seconds.map { (started ?? 0) + $0 }.sqlValue, .integer(state == "published" ? 100_000_000 : 0)
                    ])
            }
            try delivery(1, "youtube:main", "published", started: m + 9 * 3600 + 600 - 10, seconds: 10)
            try delivery(2, "youtube:main", "published", started: m + 9 * 3600 + 1200 - 20, seconds: 20)
            try delivery(3, "youtube:main", "published", started: m + 9 * 3600 + 2400 - 30, seconds: 30)
            try delivery(4, "youtube:main", "published", started: m + 86_400 + 15 * 3600 + 300 - 40, seconds: 40)
            try delivery(5, "youtube:main", "failed", started: nil, seconds: nil, error: "rejected_by_platform")
            try delivery(6, "x:main", "published", started: m + 3600, seconds: 5)
            for (n, code) in [(1, "rate_limited"), (2, "rate_limited"), (3, "network_error")] {
                try sql.run(
                    "INSERT INTO attempts (delivery_id, number, owner, account, started_at, error_code) VALUES (1, ?, 'w', 'youtube:main', ?, ?)",
                    n, m + Double(n), code)
            }
            // Readings: views and likes; the later one is the post's latest (engagement = likes / views).
            for (id, views, likes) in [(1, 1000, 100), (2, 2000, 200), (3, 500, 50), (4, 1000, 500)] {
                try sql.run(
                    "INSERT INTO post_metrics (delivery_id, at, age_seconds, views, likes) VALUES (?, ?, 3600, 1, 0), (?, ?, 86400, ?, ?)",
                    id, m + 86_400 * 3, id, m + 86_400 * 4, views, likes)
            }
            // Ids given here: PostgreSQL's identity goes on after them (SQLite's AUTOINCREMENT does by itself).
            if sql.dialect == .postgres { try sql.run("SELECT setval(pg_get_serial_sequence('deliveries', 'id'), 6)") }
        }
    }

    @Test func theFixtureLedgersKnownAnswer() throws {
        let dir = try TempDir()
        let stats = try PostStats.gather(ledger: try Self.fixture(dir), since: Date(timeIntervalSince1970: Self.monday - 86_400))
        let yt = try #require(stats.accounts.first { $0.platform == "youtube" })
        #expect(yt.posts == 4 && yt.failed == 1 && yt.successRate == 0.8)
        #expect(yt.medianUploadSeconds == 20 && yt.p95UploadSeconds == 40)
        #expect(yt.medianSpeed == 100_000_000 / 30.0 && yt.p95Speed == 100_000_000 / 10.0, "\(yt)")
        #expect(yt.rateLimitHits == 2 && yt.failuresByReason == ["rejected_by_platform": 1])
        #expect(yt.lastSuccess == Date(timeIntervalSince1970: Self.monday + 86_400 + 15 * 3600 + 300))
        #expect(stats.accounts.first { $0.platform == "x" }?.posts == 1)
        // Per post: the latest reading and its engagement rate.
        let p4 = try #require(stats.posts.first { $0.delivery == 4 })
        #expect(p4.metrics.views == 1000 && p4.metrics.likes == 500 && p4.engagementRate == 0.5)
        // Best times: Tuesday 15:00 rates 50 % on one post, Monday 09:00 10 % on three: only Monday is recommended.
        let best = try #require(stats.bestTimes.first { $0.account == "youtube:main" })
        #expect(best.slots.map(\.label) == ["Tue 15:00 UTC", "Mon 09:00 UTC"] && best.slots.map(\.sample) == [1, 3])
        #expect(best.recommended?.label == "Mon 09:00 UTC" && abs((best.recommended?.meanEngagementRate ?? 0) - 0.1) < 1e-9)
        // The window and the filters.
        #expect(
            try PostStats.gather(ledger: try Ledger(path: dir.file("ledger.sqlite").path), since: Date(timeIntervalSince1970: Self.monday + 86_400), platform: "youtube").posts.map(
                \.delivery) == [4])
        #expect(try PostStats.gather(ledger: try Ledger(path: dir.file("ledger.sqlite").path), since: .distantPast, account: "x:main").accounts.map(\.platform) == ["x"])
    }

    /// The command as a user runs it: its text, JSON and CSV say the same.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CheckCommandTests.binary)))
    func theCommandPrintsTextJSONAndCSV() throws {
        let dir = try TempDir()
        let file = try dir.write("p.yaml", "version: 1\nroot: \(dir.url.path)/p\nsandbox: embedded\ntargets: [youtube:main, x:main]\n")
        try FileManager.default.createDirectory(at: dir.file("p"), withIntermediateDirectories: true)
        let fixture = try TempDir()
        _ = try Self.fixture(fixture)
        try FileManager.default.copyItem(at: fixture.file("ledger.sqlite"), to: dir.file("p/ledger.sqlite"))
        let text = try CheckCommandTests.run(["stats", file.path, "--since", "2026-11-29"])
        #expect(text.status == 0 && text.out.contains("youtube:main  4 published, 1 failed (80.0% success), 2 rate-limit hits"), "\(text.out)")
        #expect(text.out.contains("youtube:main: Mon 09:00 UTC — 10.00% over 3 posts"), "\(text.out)")
        let json = try CheckCommandTests.run(["stats", file.path, "--since", "2026-11-29", "--json"])
        let decoded = try JSONCoding.decoder().decode(PostStats.self, from: Data(json.out.utf8))
        #expect(decoded.accounts.count == 2 && decoded.bestTimes.first { $0.account == "youtube:main" }?.recommended?.hourOfWeek == 9)
        let csv = try CheckCommandTests.run(["stats", file.path, "--since", "2026-11-29", "--csv", "--platform", "youtube"])
        let rows = CSV.parse(csv.out)
        #expect(rows.first?.first == "platform" && rows[1][0] == "youtube" && rows[1][4] == "0.8000", "\(rows)")
        #expect(rows.contains { $0.first == "youtube:main" && $0.last == "yes" && $0[2] == "Mon 09:00 UTC" })
        #expect(try CheckCommandTests.run(["stats", file.path, "--since", "soon"]).status == 2)
    }
}
