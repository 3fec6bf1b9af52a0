import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// `omnipost export` (issue 25): the ledger's rows between two times, streamed page by page; the CSV
/// parsed back equals the ledger's own rows, value for value.
@Suite struct ExportTests {
    static func csv(_ table: Ledger.ExportTable, _ ledger: Ledger, from: Double = 0, to: Double = 4e9, pageSize: Int = 2) throws -> (String, Int, Int) {
        var text = ""
        var writes = 0
        let n = try LedgerExport.write(
            table, ledger: ledger, from: Date(timeIntervalSince1970: from), to: Date(timeIntervalSince1970: to), format: .csv, pageSize: pageSize
        ) {
            text += $0
            writes += 1
        }
        return (text, n, writes)
    }

    @Test func theCSVParsedBackEqualsTheLedgersRows() throws {
        let dir = try TempDir()
        let ledger = try StatsTests.fixture(dir)
        // Metrics: every reading, each value as the ledger holds it.
        let (metricsText, n, writes) = try Self.csv(.metrics, ledger)
        let rows = CSV.parse(metricsText)
        #expect(rows.first == Ledger.ExportTable.metrics.columns)
        let expected = try (1...4).flatMap { try ledger.postMetrics(deliveryId: Int64($0)) }
        #expect(n == expected.count && rows.count == expected.count + 1)
        // Written as read: a header, then a page of two rows at a time.
        #expect(writes == 1 + expected.count / 2, "\(writes) writes")
        let back = rows.dropFirst().map { r in
            PostMetricsRow(
                deliveryId: Int64(r[0])!, at: Double(r[1])!, ageSeconds: Double(r[2])!,
                PostMetrics(
                    views: Int64(r[3]), likes: Int64(r[4]), comments: Int64(r[5]), shares: Int64(r[6]), saves: Int64(r[7]), watchSeconds: Double(r[8]),
                    averageViewSeconds: Double(r[9])))
        }
        #expect(back == expected)

        // Posts: the published deliveries, their ids, targets, remote ids and times.
        let posts = CSV.parse(try Self.csv(.posts, ledger).0).dropFirst()
        let published = try ledger.deliveries(in: [.published]).sorted { $0.id! < $1.id! }
        #expect(posts.map { Int64($0[0])! } == published.map { $0.id! })
        #expect(posts.map { $0[2] } == published.map(\.target) && posts.map { $0[5] } == published.map { $0.remoteId ?? "" })
        #expect(posts.map { Double($0[7])! } == published.map { $0.uploadFinishedAt! })
        #expect(posts.map { Double($0[8])! } == published.map { $0.uploadFinishedAt! - $0.uploadStartedAt! })

        // Attempts, and the window: only what started inside it.
        let attempts = CSV.parse(try Self.csv(.attempts, ledger, from: StatsTests.monday + 1.5).0).dropFirst()
        #expect(attempts.map { $0[7] } == ["rate_limited", "network_error"] && attempts.map { Int($0[2])! } == [2, 3])
    }

    @Test func jsonIsAnArrayOfObjectsNamedByColumn() throws {
        let dir = try TempDir()
        let ledger = try StatsTests.fixture(dir)
        var text = ""
        try LedgerExport.write(.posts, ledger: ledger, from: .distantPast, to: .distantFuture, format: .json, pageSize: 3) { text += $0 }
        let array = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
        #expect(array.count == 5 && array.allSatisfy { Set($0.keys) == Set(Ledger.ExportTable.posts.columns) })
        #expect(array.first?["delivery"] as? Int == 1 && array.first?["verified"] is NSNull && array.first?["bytes_sent"] as? Int == 100_000_000)
        var empty = ""
        try LedgerExport.write(.posts, ledger: ledger, from: .distantFuture, to: .distantFuture, format: .json) { empty += $0 }
        #expect(try JSONSerialization.jsonObject(with: Data(empty.utf8)) as? [Any] != nil)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CheckCommandTests.binary)))
    func theCommandStreamsATable() throws {
        let dir = try TempDir()
        let file = try dir.write("p.yaml", "version: 1\nroot: \(dir.url.path)/p\nsandbox: embedded\ntargets: [youtube:main]\n")
        try FileManager.default.createDirectory(at: dir.file("p"), withIntermediateDirectories: true)
        let fixture = try TempDir()
        _ = try StatsTests.fixture(fixture)
        try FileManager.default.copyItem(at: fixture.file("ledger.sqlite"), to: dir.file("p/ledger.sqlite"))
        let run = try CheckCommandTests.run(["export", file.path, "--from", "2026-11-01", "--to", "2026-12-31", "--table", "attempts"])
        let rows = CSV.parse(run.out)
        #expect(run.status == 0 && rows.count == 4 && rows[0] == Ledger.ExportTable.attempts.columns, "\(run.out)")
        #expect(try CheckCommandTests.run(["export", file.path, "--format", "xml"]).status == 2)
    }
}
