import Foundation
import OmniPostCore

/// A reel's views and average watch time: the video's insights with the Page's token (`GET
/// /{video-id}/video_insights`, developers.facebook.com/docs/video-api/guides/insights): `total_video_views`
/// (views of 3 seconds or to the end), `total_video_avg_time_watched` and `total_video_view_total_time`, both
/// in milliseconds. Needs `read_insights` (with `pages_read_engagement`).
extension FacebookAdapter {
    static let insightMetrics = "total_video_views,total_video_avg_time_watched,total_video_view_total_time"

    package func readInsights(_ posts: [PostRef]) async throws -> [String: PostMetrics] {
        let token = try await pageToken().token
        return try await graph.readInsights(posts, edge: "video_insights", metrics: Self.insightMetrics, token: token, permission: "read_insights") { v in
            PostMetrics(
                views: v["total_video_views"].map { Int64($0) }, watchSeconds: v["total_video_view_total_time"].map { $0 / 1000 },
                averageViewSeconds: v["total_video_avg_time_watched"].map { $0 / 1000 })
        }
    }
}
