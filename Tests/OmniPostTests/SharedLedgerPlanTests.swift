import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// `omnipost plan` on the shared ledger (issue 27): it opens the ledger the pipeline names, as `run` and
/// `status` do, and tries the drop on a copy of it — so what other hosts recorded is weighed (a post of
/// the same clip queued there, quota spent there), and the shared database is left as it was.
@Suite(.enabled(if: PostgresServer.available, "PostgreSQL is not installed (make test installs it)"))
struct SharedLedgerPlanTests {
    @Test(.timeLimit(.minutes(3))) func thePlanWeighsWhatOtherHostsRecordedAndChangesNothing() async throws {
        try await withPostgresDatabase { server, database in
            let dir = try TempDir()
            let quotas = """
                quotas:
                  youtube: [{name: upload_units, limit: 4800, cost: 1600, window: day, zone: America/Los_Angeles}]
                  tiktok: [{name: posts, limit: 1000, window: 24h}]
                """
            let config = try TestPipelines.config(
                root: dir.url, extra: "ledger: {url: '\(server.url(database))', password_file: '\(server.passwordFile.path)'}",
                targets: "targets: [youtube:main, tiktok:main]", quotas: quotas)
            try config.paths.createAll()
            let clip = try Clips.make(width: 1080, height: 1920, seconds: 4, extra: ["-movflags", "+faststart"])
            try TestPipelines.drop(clip, as: "again", sidecar: "title: again\n", into: config)
            let one = try Clips.make(width: 1080, height: 1920, seconds: 2.5, extra: ["-movflags", "+faststart"])
            try TestPipelines.drop(one, as: "other", sidecar: "title: other\n", into: config)
            // Another host's records: this clip queued for TikTok there, and two YouTube posts' quota spent today.
            let shared = try Ledger.open(config)
            defer { shared.close() }
            let sha = try FileHashing.sha256(path: clip.path).hex
            try LedgerFamiliesTests.plant(shared, drop: "d-elsewhere", targets: ["tiktok:main"], content: sha, at: Date().timeIntervalSince1970)
            let rule = QuotaRule(name: "upload_units", limit: 4800, cost: 1600, window: .calendarDay(zone: "America/Los_Angeles"))
            for _ in 0..<2 { #expect(try shared.spendRequest(account: "youtube:main", rule: rule, deliveryId: nil) == nil) }
            let eventsBefore = try shared.events().count

            let plan = try await DropPlanner(config: config).plan(config.paths.inbox.path)
            let lines = plan.lines.joined(separator: "\n")
            #expect(plan.note == nil, "no note that the shared ledger is not read: \(plan.note ?? "")")
            // The queued delivery on the shared ledger: the same clip is not sent to TikTok again.
            let again = try #require(plan.drops.first { $0.clip == "again.mp4" })
            let tiktok = try #require(again.targets.first { $0.target == "tiktok:main" })
            #expect(tiktok.state == "cancelled" && tiktok.error?.code == "duplicate", "\(lines)")
            #expect(lines.contains("tiktok:main  not sent: duplicate: already being published by drop d-elsewhere"), "\(lines)")
            // The quota spent there: one more YouTube post fits today, the next waits for midnight in Los Angeles.
            let youtube = plan.drops.compactMap { $0.targets.first { $0.target == "youtube:main" } }
            #expect(youtube.count == 2)
            #expect(youtube.contains { $0.waits.contains { $0.contains("upload_units 4800/4800 used") } }, "\(lines)")
            // The shared ledger was only read: no drop of the plan's, no event, the spends as they were.
            #expect(try shared.drops().map(\.id) == ["d-elsewhere"])
            #expect(try shared.events().count == eventsBefore)
            #expect(try shared.quotaUse(accounts: ["youtube:main"], rules: ["youtube": [rule]]).first?.used == 3200)
        }
    }

    /// The copy `plan` works on: every row of the shared ledger in a SQLite file of its own, read through
    /// a cursor a page (500 rows) at a time — here 1,234 events, three pages and a part.
    @Test func theSnapshotCopiesEveryRowPageByPage() async throws {
        try await withPostgresDatabase { server, database in
            let dir = try TempDir()
            let shared = try SharedLedgerClaimTests.open(server, database, clock: SystemClock())
            defer { shared.close() }
            let ledger = Ledger(shared: shared)
            try LedgerFamiliesTests.plant(ledger, drop: "d-one", targets: ["youtube:main", "x:main"])
            try ledger.writeSQL { sql, _ in
                try sql.run(
                    "INSERT INTO events (at, drop_id, stage, to_state, detail) SELECT g, 'd-one', 'bench', 'noted', 'row ' || g FROM generate_series(1, 1234) AS g")
            }
            let copy = dir.file("copy.sqlite").path
            try ledger.snapshot(to: copy)
            let lite = try Ledger(path: copy)
            #expect(try lite.events().count == ledger.events().count)
            #expect(try lite.events().filter { $0.stage == "bench" }.map(\.detail) == (1...1234).map { "row \($0)" })
            #expect(try lite.allDeliveries().map(\.target) == ["youtube:main", "x:main"])
            #expect(try lite.drops().map(\.id) == ["d-one"])
        }
    }
}
