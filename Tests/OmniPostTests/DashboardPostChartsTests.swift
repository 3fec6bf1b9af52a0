import Foundation
import OmniPostCore
@testable import OmniPostLedger
@testable import OmniPostPipeline
import Testing

/// The dashboard's post page and best-times heat map (issue 25), fetched over real HTTP from a pipeline
/// whose ledger is `StatsTests`' fixture: every dot of a post's charts is one of its readings in the ledger
/// (time and value), and every cell of the heat map is an hour of the week with its sample size and rate
/// as `omnipost stats` computes them.
@Suite struct DashboardPostChartsTests {
    /// The values of `attribute` on the elements of one SVG, in order.
    static func values(_ attribute: String, in svg: Substring) -> [String] {
        svg.components(separatedBy: " \(attribute)=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
    }

    /// The SVG whose aria-label starts with `label`.
    static func svg(_ body: String, label: String) -> Substring? {
        guard let start = body.range(of: "aria-label=\"\(label)") else { return nil }
        let from = body[..<start.lowerBound].range(of: "<svg", options: .backwards)?.lowerBound ?? start.lowerBound
        guard let end = body[start.upperBound...].range(of: "</svg>") else { return nil }
        return body[from..<end.upperBound]
    }

    @Test(.timeLimit(.minutes(4))) func aPostsChartsAndTheHeatMapAreTheLedgersNumbers() async throws {
        let dir = try TempDir()
        chmod(try dir.write("token", "charts-token-0123456789\n").path, 0o600)
        let config = try TestPipelines.config(
            root: dir.url, extra: "http: {listen: \"127.0.0.1:0\", token_file: \(dir.url.path)/token, loopback_reads: open}",
            targets: "targets: [youtube:main, x:main]")
        try config.paths.createAll()
        let fixture = try TempDir()
        _ = try StatsTests.fixture(fixture)
        try FileManager.default.copyItem(at: fixture.file("ledger.sqlite"), to: config.paths.ledger)
        let p = try await TestPipelines.runOnce(config)
        try await stopping(p) {
            let base = "http://127.0.0.1:\(try #require(p.listener).port)"
            let ledger = p.context.ledger

            let post = try await DashboardTests.http(base + "/posts/4")
            #expect(post.status == 200 && post.body.contains("youtube:main-4"), "\(post.status)")
            for (name, value) in [("Views", { (m: PostMetrics) in m.views }), ("Likes", { (m: PostMetrics) in m.likes })] {
                let chart = try #require(Self.svg(post.body, label: "\(name) of youtube:main-4"), "\(name) chart in \(post.body.prefix(3000))")
                let series = try ledger.postMetrics(deliveryId: 4)
                #expect(Self.values("data-v", in: chart) == series.compactMap { value($0.metrics).map(String.init) }, "\(name)")
                #expect(Self.values("data-at", in: chart) == series.map { isoStamp($0.at) }, "\(name)")
                #expect(chart.contains("<path class=\"line\""))
            }
            // Numbers the post has none of get no chart.
            #expect(Self.svg(post.body, label: "Reach of") == nil && Self.svg(post.body, label: "Comments of") == nil)
            #expect(try await DashboardTests.http(base + "/posts/5").status == 404, "a failed delivery is no post")
            #expect(try await DashboardTests.http(base + "/posts/nothing").status == 404)

            let posts = try await DashboardTests.http(base + "/posts")
            #expect(posts.status == 200 && posts.body.contains("href=\"/posts/4\""))
            let heat = try #require(Self.svg(posts.body, label: "best posting times of youtube:main"), "\(posts.body.prefix(4000))")
            let best = try #require(
                PostStats.bestTimes(try ledger.postReadings(since: Date().timeIntervalSince1970 - 90 * 86_400), minimumSample: 3).first {
                    $0.account == "youtube:main"
                })
            let cells = Dictionary(uniqueKeysWithValues: zip(Self.values("data-how", in: heat), Self.values("data-sample", in: heat)))
            #expect(cells == Dictionary(uniqueKeysWithValues: best.slots.map { (String($0.hourOfWeek), String($0.sample)) }), "\(cells)")
            #expect(cells == ["9": "3", "39": "1"])
            #expect(Self.values("data-rate", in: heat).sorted() == best.slots.map { String(format: "%.4f", $0.meanEngagementRate) }.sorted())
            // The sample sizes are written in the cells; the recommended hour is outlined.
            #expect(heat.contains(">3</text>") && heat.contains(">1</text>") && heat.contains("class=\"cell best\"") && heat.contains("data-how=\"9\""))
            #expect(heat.components(separatedBy: "<rect").count - 1 == 168, "a cell for every hour of the week")
        }
    }
}
