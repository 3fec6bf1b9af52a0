import Foundation
import OmniPostCore

/// A reel's views, reach, saves and shares: its insights (`GET /{ig-media-id}/insights?metric=views,reach,
/// saved,shares,total_interactions`, developers.facebook.com/docs/instagram-platform/reference/instagram-media/insights),
/// one call per reel. `reach` is the accounts that saw it, counted once each by Instagram: kept exactly as
/// given — never added to views, never summed across readings (a reading replaces the last). Needs
/// `instagram_manage_insights`.
extension InstagramAdapter {
    static let insightMetrics = "views,reach,saved,shares,total_interactions"

    package func readInsights(_ posts: [PostRef]) async throws -> [String: PostMetrics] {
        try await graph.readInsights(posts, metrics: Self.insightMetrics, permission: "instagram_manage_insights") { v in
            PostMetrics(
                views: v["views"].map { Int64($0) }, shares: v["shares"].map { Int64($0) }, saves: v["saved"].map { Int64($0) },
                reach: v["reach"].map { Int64($0) })
        }
    }
}
