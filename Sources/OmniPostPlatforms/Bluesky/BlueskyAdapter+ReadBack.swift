import Foundation
import OmniPostCore

/// Read back through `app.bsky.feed.getPosts` (25 URIs a call): a post the AppView has is among
/// `posts` with its reply, repost, like and quote counts; one it does not have is left out. Every post
/// on Bluesky is public, and Bluesky counts no views.
extension BlueskyAdapter {
    package func readBack(_ posts: [PostRef]) async throws -> [String: Sighting] {
        let r = try await xrpc.call(.GET, pds, "app.bsky.feed.getPosts", query: posts.map { ("uris", $0.remoteId) })
        guard r.status == 200, let list = r.decoded(BlueskyWire.PostViews.self) else { throw BlueskyXRPC.failure(r, "reading posts back (getPosts)") }
        let byURI = Dictionary((list.posts ?? []).map { ($0.uri, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [String: Sighting] = [:]
        for p in posts {
            guard let v = byURI[p.remoteId] else {
                out[p.remoteId] = .absent("getPosts has no post \(p.remoteId)")
                continue
            }
            if let label = v.labels?.first(where: { $0.val == "!takedown" }) {
                out[p.remoteId] = .removed("labelled \(label.val)")
                continue
            }
            out[p.remoteId] = .seen(
                SeenPost(
                    privacy: nil,
                    metrics: PostMetrics(
                        likes: v.likeCount, comments: v.replyCount, shares: v.repostCount.map { $0 + (v.quoteCount ?? 0) }),
                    says: "getPosts: \(v.uri)"))
        }
        return out
    }
}

extension BlueskyWire {
    struct PostViews: Decodable {
        struct View: Decodable {
            struct Label: Decodable { var val: String }
            var uri: String
            var likeCount: Int64?
            var replyCount: Int64?
            var repostCount: Int64?
            var quoteCount: Int64?
            var labels: [Label]?
        }
        var posts: [View]?
    }
}
