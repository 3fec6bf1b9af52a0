import Foundation
import OmniPostCore

/// A post's numbers, all of them insights on Threads (`GET /{threads-media-id}/insights?metric=views,likes,
/// replies,reposts,quotes,shares`, developers.facebook.com/docs/threads/insights), one call per post.
/// Replies are its comments; reposts, quotes and shares are the ways it was passed on, together its
/// shares (X's reposts and quotes are counted the same way). Needs `threads_manage_insights`.
extension ThreadsAdapter {
    static let insightMetrics = "views,likes,replies,reposts,quotes,shares"

    package func readInsights(_ posts: [PostRef]) async throws -> [String: PostMetrics] {
        try await graph.readInsights(posts, metrics: Self.insightMetrics, permission: "threads_manage_insights") { v in
            let passedOn = ["reposts", "quotes", "shares"].compactMap { v[$0] }
            return PostMetrics(
                views: v["views"].map { Int64($0) }, likes: v["likes"].map { Int64($0) }, comments: v["replies"].map { Int64($0) },
                shares: passedOn.isEmpty ? nil : Int64(passedOn.reduce(0, +)))
        }
    }
}
