import Foundation
import Hummingbird
import OmniPostCore

/// The Graph API's insights edges, one shape for the three Meta platforms: `{"data": [{"name", "period":
/// "lifetime", "values": [{"value": n}], "title", "description", "id": "<id>/insights/<name>/lifetime"}]}`,
/// only the metrics asked, in the order asked.
/// - Instagram `GET /{ig-media-id}/insights?metric=views,reach,saved,shares,total_interactions,likes,comments`
///   (developers.facebook.com/docs/instagram-platform/reference/instagram-media/insights): `reach` is the
///   unique accounts that saw the reel — the platform's own number, fewer than its views.
/// - Threads `GET /{threads-media-id}/insights?metric=views,likes,replies,reposts,quotes,shares`
///   (developers.facebook.com/docs/threads/insights).
/// - Facebook `GET /{video-id}/video_insights` (developers.facebook.com/docs/video-api/guides/insights), with
///   the Page's token: every lifetime metric, or those `metric=` names; `total_video_avg_time_watched` is in
///   milliseconds, `total_video_view_total_time` too.
/// A grant without the insights permission (`SandboxState.withholdInsights`) is Graph error code 10, as Meta
/// refuses a call whose permission was not granted.
enum GraphInsightsRoutes: SandboxPlatform {
    typealias G = GraphRoutes
    static let name = "meta-insights"

    static let instagramMetrics: Set<String> = ["views", "reach", "saved", "shares", "total_interactions", "likes", "comments"]
    static let threadsMetrics: Set<String> = ["views", "likes", "replies", "reposts", "quotes", "shares"]
    static let facebookMetrics = ["total_video_views", "total_video_views_unique", "total_video_avg_time_watched", "total_video_view_total_time"]

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        router.get("/:version/:id/insights") { req, ctx -> Response in
            guard G.validVersion(ctx.parameters.get("version")) else { return G.graphError(400, "Unknown path components", code: 2500) }
            var req = req
            let p = try await G.params(&req)
            guard let account = await G.account(req, p, state) else { return G.badToken }
            let id = ctx.parameters.get("id") ?? ""
            let platform = account.hasPrefix("threads:") ? "threads" : "instagram"
            await state.count("\(platform).insights")
            guard let v = await state.allVideos().first(where: { $0.platform == platform && $0.id == id && $0.account == account }),
                let life = await state.postLife(platform: platform, id: id), life.found
            else { return missing(id) }
            if await state.insightsWithheld(platform: platform) {
                return G.graphError(403, "(#10) Application does not have permission for this action", code: 10)
            }
            let asked = (p["metric"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let known = platform == "threads" ? threadsMetrics : instagramMetrics
            guard !asked.isEmpty else { return G.graphError(400, "(#100) The parameter metric is required", code: 100) }
            if let bad = asked.first(where: { !known.contains($0) }) {
                return G.graphError(400, "(#100) metric[0] must be one of the following values: \(known.sorted().joined(separator: ", ")) (\(bad))", code: 100)
            }
            let n = life.numbers
            let values: [String: Int64] = [
                "views": n.views, "reach": n.reach, "saved": n.saves, "shares": n.shares, "likes": n.likes, "comments": n.comments,
                "total_interactions": n.likes + n.comments + n.saves + n.shares, "replies": n.comments, "reposts": n.shares, "quotes": n.quotes
            ]
            return SandboxHTTP.json(.ok, ["data": asked.map { entry(v.id, $0, values[$0] ?? 0) }])
        }
        router.get("/:version/:id/video_insights") { req, ctx -> Response in
            guard G.validVersion(ctx.parameters.get("version")) else { return G.graphError(400, "Unknown path components", code: 2500) }
            var req = req
            let p = try await G.params(&req)
            guard let account = await G.account(req, p, state, platform: "facebook") else { return G.badToken }
            let id = ctx.parameters.get("id") ?? ""
            await state.count("facebook.insights")
            guard let v = await state.fbVideo(id), v.account == account, let life = await state.postLife(platform: "facebook", id: id), life.found else {
                return missing(id)
            }
            guard await FacebookRoutes.isPageToken(req, p, account: account, state: state) else {
                return G.graphError(400, "(#190) This method must be called with a Page Access Token", code: 190)
            }
            if await state.insightsWithheld(platform: "facebook") {
                return G.graphError(403, "(#10) This endpoint requires the 'read_insights' permission", code: 10)
            }
            let n = life.numbers
            let values: [String: Int64] = [
                "total_video_views": n.views, "total_video_views_unique": n.reach,
                "total_video_avg_time_watched": Int64(n.averageViewSeconds * 1000), "total_video_view_total_time": Int64(n.watchSeconds * 1000)
            ]
            let asked = (p["metric"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let names = asked.isEmpty ? facebookMetrics : asked.filter { values[$0] != nil }
            return SandboxHTTP.json(.ok, ["data": names.map { entry(v.id, $0, values[$0] ?? 0, edge: "video_insights") }])
        }
    }

    static func entry(_ id: String, _ name: String, _ value: Int64, edge: String = "insights") -> [String: Any] {
        [
            "name": name, "period": "lifetime", "values": [["value": value]], "title": name, "description": "Lifetime: \(name)",
            "id": "\(id)/\(edge)/\(name)/lifetime"
        ]
    }

    static func missing(_ id: String) -> Response {
        G.graphError(400, "Unsupported get request. Object with ID '\(id)' does not exist", code: 100, subcode: 33)
    }
}
