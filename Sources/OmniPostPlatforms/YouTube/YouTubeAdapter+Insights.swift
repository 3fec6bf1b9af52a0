import Foundation
import NIOCore
import OmniPostCore

/// A video's watch time, average view duration and shares, which `videos.list` does not give: YouTube
/// Analytics' `reports.query` (developers.google.com/youtube/analytics, Channel Reports → video reports)
/// with `ids=channel==MINE`, `dimensions=video`, `filters=video==id1,id2,…` (the read-back's batch of ids in
/// one call) and `metrics=views,estimatedMinutesWatched,averageViewDuration,likes,comments,shares` over the
/// channel's whole life, so each row is the video's lifetime total. `estimatedMinutesWatched` is in minutes
/// and `averageViewDuration` in seconds (the API's metric definitions). It needs the
/// `yt-analytics.readonly` scope; a token without it is refused 403 `insufficientPermissions`.
extension YouTubeAdapter {
    static let analyticsMetrics = "views,estimatedMinutesWatched,averageViewDuration,likes,comments,shares"
    /// A start before any video existed: the report then sums each video's whole life.
    static let analyticsStart = "2005-04-23"

    /// youtubeanalytics.googleapis.com for the real service; the same server otherwise (the sandbox).
    var analyticsRoot: String {
        account.endpoint.contains("googleapis.com") ? "https://youtubeanalytics.googleapis.com" : account.endpoint
    }

    package func readInsights(_ posts: [PostRef]) async throws -> [String: PostMetrics] {
        guard !posts.isEmpty else { return [:] }
        // The report's days are Pacific (YouTube Analytics' reporting day).
        let day = DateFormatter()
        day.locale = Locale(identifier: "en_US_POSIX")
        day.timeZone = TimeZone(identifier: "America/Los_Angeles")
        day.dateFormat = "yyyy-MM-dd"
        let query = TokenProvider.form([
            ("ids", "channel==MINE"), ("startDate", Self.analyticsStart), ("endDate", day.string(from: Date())),
            ("metrics", Self.analyticsMetrics), ("dimensions", "video"), ("filters", "video==" + posts.map(\.remoteId).joined(separator: ","))
        ])
        let resp = try await settings.api.send(url: analyticsRoot + "/v2/reports?" + query, method: .GET, headers: [], body: ByteBuffer())
        if resp.status == 403, resp.decoded(YouTubeWire.ErrorReply.self)?.error?.errors?.first?.reason == "insufficientPermissions" {
            throw DeliveryError(
                .permanent, .insightsNotGranted,
                "YouTube Analytics refused the report (403 insufficientPermissions): the account's grant lacks https://www.googleapis.com/auth/yt-analytics.readonly; connect it again (omnipost accounts add) to read watch time and shares",
                httpStatus: 403)
        }
        guard resp.status == 200, let table = resp.decoded(YouTubeWire.ResultTable.self) else {
            throw Self.classify(resp, during: "reading watch time (youtubeAnalytics.reports.query)")
        }
        let column = Dictionary((table.columnHeaders ?? []).enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        guard let videoColumn = column["video"] else { return [:] }
        var out: [String: PostMetrics] = [:]
        for row in table.rows ?? [] {
            guard videoColumn < row.count, case .text(let id) = row[videoColumn] else { continue }
            func number(_ name: String) -> Double? {
                guard let i = column[name], i < row.count, case .number(let v) = row[i] else { return nil }
                return v
            }
            out[id] = PostMetrics(
                views: number("views").map { Int64($0) }, likes: number("likes").map { Int64($0) }, comments: number("comments").map { Int64($0) },
                shares: number("shares").map { Int64($0) }, watchSeconds: number("estimatedMinutesWatched").map { $0 * 60 },
                averageViewSeconds: number("averageViewDuration"))
        }
        return out
    }
}

extension YouTubeWire {
    /// `youtubeAnalytics#resultTable`: column headers, then rows of values in their order.
    struct ResultTable: Decodable {
        struct Header: Decodable {
            var name: String
            var columnType: String?
            var dataType: String?
        }
        /// A cell: a dimension's string or a metric's number.
        enum Cell: Decodable {
            case text(String), number(Double), other
            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let n = try? c.decode(Double.self) {
                    self = .number(n)
                } else if let s = try? c.decode(String.self) {
                    self = .text(s)
                } else {
                    self = .other
                }
            }
        }
        var kind: String?
        var columnHeaders: [Header]?
        var rows: [[Cell]]?
    }
}
