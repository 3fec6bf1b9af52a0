import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// The daemon on the shared ledger (issue 27): a pipeline whose `ledger:` names the test's PostgreSQL
/// server takes a clip dropped into its inbox, publishes it to the sandbox and archives it — and every
/// row of that is in PostgreSQL, read back through a connection of its own; no SQLite file is made.
@Suite(.enabled(if: PostgresServer.available, "PostgreSQL is not installed (make test installs it)"))
struct SharedLedgerRunTests {
    @Test(.timeLimit(.minutes(5))) func aClipIsPublishedAndArchivedWithItsRowsInPostgreSQL() async throws {
        try await withPostgresDatabase { server, database in
            let dir = try TempDir()
            chmod(try dir.write("token", "shared-token-0123456789abcdef\n").path, 0o600)
            let config = try TestPipelines.config(
                root: dir.url,
                extra: """
                    ledger: {url: '\(server.url(database))', password_file: '\(server.passwordFile.path)', pool_size: 4}
                    http: {listen: "127.0.0.1:0", token_file: \(dir.url.path)/token, loopback_reads: open}
                    """,
                targets: "targets: [youtube:main]")
            try TestPipelines.drop(try Clips.make(width: 540, height: 960, seconds: 3), as: "shared", sidecar: "title: on the shared ledger\nprivacy: public\n", into: config)
            let p = try await TestPipelines.runOnce(config)
            try await stopping(p) {
                #expect(p.context.ledger.isShared)
                let videos = await p.sandbox!.state.allVideos()
                #expect(videos.count == 1, "published once to the sandbox")
                #expect(files(under: config.paths.archive).contains { $0.hasSuffix("shared.mp4") }, "\(files(under: config.paths.archive))")
                let left = ((try? FileManager.default.contentsOfDirectory(atPath: config.paths.inbox.path)) ?? []).filter { !$0.hasPrefix(".") }
                #expect(left.isEmpty, "the inbox is empty: \(left)")
                #expect(!FileManager.default.fileExists(atPath: config.paths.ledger.path), "no SQLite ledger beside the shared one")
                // The dashboard and the operator API read the shared ledger: the overview, the history, the
                // drop's page, the failures list (empty), the metrics and readiness.
                let base = "http://127.0.0.1:\(try #require(p.listener).port)"
                let drop = try #require(try p.context.ledger.drops().first)
                for path in ["/", "/drops", "/drops/\(drop.id)", "/failures", "/api/v1/failures", "/metrics", "/readyz"] {
                    let page = try await DashboardTests.http(base + path)
                    #expect(page.status == 200, "\(path): \(page.status) \(page.body.prefix(300))")
                }
                #expect(try await DashboardTests.http(base + "/drops?name=SHARED").body.contains(drop.id), "the history finds it by name, any case")
                #expect(try await DashboardTests.http(base + "/drops/\(drop.id)").body.contains("on the shared ledger"))
            }
            // The rows, read from PostgreSQL by another connection (another host would read the same).
            let other = try SharedLedgerClaimTests.open(server, database, clock: SystemClock())
            defer { other.close() }
            let (drops, deliveries, events) = try other.write { tx in
                (
                    try tx.rows("SELECT id, state FROM drops").map { "\($0.text("state") ?? "")" },
                    try tx.rows("SELECT target, state, remote_id FROM deliveries").map { "\($0.text("target") ?? "") \($0.text("state") ?? "") \($0.text("remote_id") != nil)" },
                    try tx.int("SELECT COUNT(*) AS n FROM events") ?? 0
                )
            }
            #expect(drops == ["archived"], "\(drops)")
            #expect(deliveries == ["youtube:main published true"], "\(deliveries)")
            #expect(events > 5)
            // `status` reads the same rows through the one `Ledger` type.
            let status = try StatusReport.gather(config: config, ledger: Ledger(shared: other), profiles: try ProfileCatalog.bundled())
            #expect(try status.text(ledger: Ledger(shared: other), filter: StatusFilter()).contains("published"))
        }
    }

    /// `cancel` and `retry` as the commands make them — the pipeline's ledger opened anew (`Ledger.open`, its
    /// own connections, as another process has) with `QueueControl` — act on the rows the running
    /// pipeline reads: a post scheduled for later is cancelled, the daemon's ledger sees it cancelled,
    /// and a retry of it is refused (only failed or held deliveries are retried).
    @Test(.timeLimit(.minutes(5))) func cancelAndRetryFromAnotherProcessActOnTheSharedRows() async throws {
        try await withPostgresDatabase { server, database in
            let dir = try TempDir()
            let config = try TestPipelines.config(
                root: dir.url, extra: "ledger: {url: '\(server.url(database))', password_file: '\(server.passwordFile.path)'}", targets: "targets: [tiktok:main]")
            // TikTok has no scheduled publishing of its own: the delivery waits in the queue until its time.
            let at = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3 * 3600))
            try TestPipelines.drop(
                try Clips.make(width: 540, height: 960, seconds: 4), as: "later", sidecar: "title: later\nprivacy: public\npublish_at: \"\(at)\"\n", into: config)
            let p = try await TestPipelines.runOnce(config)
            try await stopping(p) {
                let waiting = try #require(try p.context.ledger.allDeliveries().first)
                #expect(!waiting.state.isTerminal, "\(waiting.state) \(waiting.errorMessage ?? "")")
                let other = try Ledger.open(config)
                #expect(other.isShared)
                let control = QueueControl(config: config, ledger: other)
                let lines = try await control.cancel("\(waiting.id!)")
                #expect(lines.first?.contains("cancelled") == true, "\(lines)")
                #expect(try p.context.ledger.delivery(waiting.id!)?.state == .cancelled, "the daemon's ledger reads the cancel")
                #expect(throws: OmniError.self) { try control.retry("\(waiting.id!)") }
                #expect(try p.context.ledger.events(forDrop: waiting.dropId).contains { $0.toState == "cancelled" && $0.stage == "control" })
                other.close()
            }
        }
    }
}
