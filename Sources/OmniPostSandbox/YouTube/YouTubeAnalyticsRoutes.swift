import Foundation
import Hummingbird
import OmniPostCore

/// YouTube Analytics' `reports.query` (`GET /v2/reports`, host youtubeanalytics.googleapis.com; the
/// google-api-python-client discovery document youtubeAnalytics v2): `ids`, `startDate`, `endDate` and
/// `metrics` are required; `ids=channel==MINE` is the token's own channel; `dimensions=video` with
/// `filters=video==id1,id2` gives one row per video. The answer is a `youtubeAnalytics#resultTable`: the
/// `columnHeaders` (dimensions first, then the metrics in the order asked, each with `columnType` and
/// `dataType`) and `rows` of values in that order — integers for counts, `estimatedMinutesWatched` in
/// minutes, `averageViewDuration` in seconds (the API's Metrics reference). A grant without
/// `yt-analytics.readonly` is refused 403 `insufficientPermissions`, as Google refuses a token's missing scope.
enum YouTubeAnalyticsRoutes: SandboxPlatform {
    static let name = "youtube-analytics"

    /// The metrics this sandbox computes, with their `dataType`.
    static let metricTypes: [String: String] = [
        "views": "INTEGER", "estimatedMinutesWatched": "INTEGER", "averageViewDuration": "INTEGER", "likes": "INTEGER", "comments": "INTEGER",
        "shares": "INTEGER", "dislikes": "INTEGER", "subscribersGained": "INTEGER"
    ]

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        router.get("/v2/reports") { req, _ -> Response in
            await state.count("youtube.analytics")
            guard let account = await state.account(forBearer: SandboxHTTP.header(req, "Authorization")), account.hasPrefix("youtube:") else {
                return SandboxHTTP.googleError(401, "authError", "Request had invalid authentication credentials.")
            }
            if await state.insightsWithheld(platform: "youtube") {
                return SandboxHTTP.googleError(403, "insufficientPermissions", "Request had insufficient authentication scopes.")
            }
            return await report(req, account: account, state: state)
        }
    }

    static func value(_ req: Request, _ name: String) -> String? {
        SandboxHTTP.query(req, name).map { $0.removingPercentEncoding ?? $0 }
    }

    /// `YYYY-MM-DD`, as the API takes its dates.
    static func isDay(_ s: String) -> Bool {
        let c = Array(s)
        return c.count == 10 && c[4] == "-" && c[7] == "-" && c.enumerated().allSatisfy { $0.offset == 4 || $0.offset == 7 || $0.element.isASCII && $0.element.isNumber }
    }

    static func report(_ req: Request, account: String, state: SandboxState) async -> Response {
        for required in ["ids", "startDate", "endDate", "metrics"] where (value(req, required) ?? "").isEmpty {
            return SandboxHTTP.googleError(400, "required", "Required parameter: \(required)")
        }
        guard value(req, "ids") == "channel==MINE" else {
            return SandboxHTTP.googleError(400, "invalid", "The sandbox answers ids=channel==MINE (the token's own channel).")
        }
        for d in ["startDate", "endDate"] where !isDay(value(req, d) ?? "") {
            return SandboxHTTP.googleError(400, "invalid", "Invalid value for \(d): expected YYYY-MM-DD.")
        }
        let metrics = (value(req, "metrics") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if let unknown = metrics.first(where: { metricTypes[$0] == nil }) {
            return SandboxHTTP.googleError(400, "badRequest", "Unknown identifier (\(unknown)) given in field parameters.metrics.")
        }
        let dimensions = (value(req, "dimensions") ?? "").split(separator: ",").map(String.init)
        guard dimensions == ["video"] else {
            return SandboxHTTP.googleError(400, "badRequest", "The query is not supported by the sandbox: it answers dimensions=video.")
        }
        let filters = value(req, "filters") ?? ""
        guard filters.hasPrefix("video==") else {
            return SandboxHTTP.googleError(400, "badRequest", "The query is not supported: dimensions=video needs filters=video==<ids>.")
        }
        let ids = filters.dropFirst("video==".count).split(separator: ",").map(String.init)
        guard ids.count <= 500 else { return SandboxHTTP.googleError(400, "badRequest", "A video filter takes at most 500 ids.") }
        var rows: [[Any]] = []
        for id in ids {
            // Only the channel's own videos it still shows have rows; any other id has none.
            guard let v = await state.allVideos().last(where: { $0.platform == "youtube" && $0.id == id }), v.account == account,
                let life = await state.postLife(platform: "youtube", id: id), life.found
            else { continue }
            let n = life.numbers
            var row: [Any] = [id]
            for m in metrics {
                switch m {
                case "views": row.append(n.views)
                case "estimatedMinutesWatched": row.append(Int64((n.watchSeconds / 60).rounded()))
                case "averageViewDuration": row.append(Int64(n.averageViewSeconds))
                case "likes": row.append(n.likes)
                case "comments": row.append(n.comments)
                case "shares": row.append(n.shares)
                default: row.append(0)
                }
            }
            rows.append(row)
        }
        let headers: [[String: Any]] =
            [["name": "video", "columnType": "DIMENSION", "dataType": "STRING"]]
            + metrics.map { ["name": $0, "columnType": "METRIC", "dataType": metricTypes[$0] ?? "INTEGER"] }
        return SandboxHTTP.json(.ok, ["kind": "youtubeAnalytics#resultTable", "columnHeaders": headers, "rows": rows])
    }
}
