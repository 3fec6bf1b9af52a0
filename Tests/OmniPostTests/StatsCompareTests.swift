import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// `omnipost stats --compare platform|account` on `StatsTests`' fixture ledger, whose answer is known: the
/// same columns for every row over the same window, numbers totalled over each row's posts, the mean of
/// their engagement rates; text, JSON and CSV from the command say the same.
@Suite struct StatsCompareTests {
    @Test func platformsSideBySideHaveTheFixturesKnownAnswer() throws {
        let dir = try TempDir()
        let ledger = try StatsTests.fixture(dir)
        let c = try PostCompare.gather(ledger: ledger, since: Date(timeIntervalSince1970: StatsTests.monday - 86_400), by: .platform)
        #expect(c.rows.map(\.key) == ["x", "youtube"])
        let yt = try #require(c.rows.last)
        #expect(yt.published == 4 && yt.failed == 1 && yt.successRate == 0.8 && yt.medianUploadSeconds == 20 && yt.p95UploadSeconds == 40)
        #expect(yt.rateLimitHits == 2 && yt.lastSuccess == Date(timeIntervalSince1970: StatsTests.monday + 86_400 + 15 * 3600 + 300))
        // Latest readings only: 1000 + 2000 + 500 + 1000 views, 100 + 200 + 50 + 500 likes; rates 0.1, 0.1, 0.1, 0.5.
        #expect(yt.posts == 4 && yt.views == 4500 && yt.likes == 850 && yt.rated == 4 && abs((yt.meanEngagementRate ?? 0) - 0.2) < 1e-12, "\(yt)")
        let x = try #require(c.rows.first)
        #expect(x.published == 1 && x.failed == 0 && x.successRate == 1 && x.medianUploadSeconds == 5 && x.posts == 0 && x.views == nil && x.meanEngagementRate == nil)
        // By account: the same rows under their accounts' names; a narrower window leaves Monday's posts out.
        let accounts = try PostCompare.gather(ledger: ledger, since: Date(timeIntervalSince1970: StatsTests.monday - 86_400), by: .account)
        #expect(accounts.rows.map(\.key) == ["x:main", "youtube:main"] && accounts.rows.last?.views == 4500)
        let tuesday = try PostCompare.gather(ledger: ledger, since: Date(timeIntervalSince1970: StatsTests.monday + 86_400), by: .account)
        #expect(tuesday.rows.map(\.key) == ["youtube:main"] && tuesday.rows.first?.published == 1 && tuesday.rows.first?.views == 1000)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CheckCommandTests.binary)))
    func theCommandComparesInTextJSONAndCSV() throws {
        let dir = try TempDir()
        let file = try dir.write("p.yaml", "version: 1\nroot: \(dir.url.path)/p\nsandbox: embedded\ntargets: [youtube:main, x:main]\n")
        try FileManager.default.createDirectory(at: dir.file("p"), withIntermediateDirectories: true)
        let fixture = try TempDir()
        _ = try StatsTests.fixture(fixture)
        try FileManager.default.copyItem(at: fixture.file("ledger.sqlite"), to: dir.file("p/ledger.sqlite"))
        let text = try CheckCommandTests.run(["stats", file.path, "--since", "2026-11-29", "--compare", "account"])
        let lines = text.out.split(separator: "\n").map(String.init)
        #expect(text.status == 0 && lines.contains { $0.hasPrefix("account ") && $0.contains("views") && $0.contains("mean_engagement_rate") }, "\(text.out)")
        let yt = try #require(lines.first { $0.hasPrefix("youtube:main") }, "\(text.out)")
        #expect(
            yt.split(separator: " ").map(String.init) == [
                "youtube:main", "4", "1", "0.8000", "20.000", "40.000", "2", "2026-12-01T15:05:00Z", "4", "4500", "850", "–", "–", "–", "0.2000", "4"
            ], "\(yt)")
        let json = try CheckCommandTests.run(["stats", file.path, "--since", "2026-11-29", "--compare", "platform", "--json"])
        let decoded = try JSONCoding.decoder().decode(PostCompare.self, from: Data(json.out.utf8))
        #expect(decoded.by == .platform && decoded.rows.map(\.key) == ["x", "youtube"] && decoded.rows.last?.likes == 850)
        let csv = CSV.parse(try CheckCommandTests.run(["stats", file.path, "--since", "2026-11-29", "--compare", "platform", "--csv"]).out)
        #expect(csv.first?.first == "platform" && csv.count == 3 && csv.allSatisfy { $0.count == csv[0].count }, "\(csv)")
        #expect(csv[2][0] == "youtube" && csv[2][csv[0].firstIndex(of: "views")!] == "4500")
        #expect(try CheckCommandTests.run(["stats", file.path, "--compare", "planet"]).status == 2)
    }
}
