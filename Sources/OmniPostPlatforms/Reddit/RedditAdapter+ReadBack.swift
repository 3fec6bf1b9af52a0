import Foundation
import OmniPostCore

/// Read back through `GET /by_id/t3_…` (100 fullnames a call): a post Reddit has is in the Listing with
/// its score and comment count; `removed_by_category` says who took it down. Reddit posts are public and
/// Reddit gives no view count.
extension RedditAdapter {
    package func readBack(_ posts: [PostRef]) async throws -> [String: Sighting] {
        let names = posts.map { "t3_" + $0.remoteId }.joined(separator: ",")
        let r = try await reddit.send("/by_id/\(names)")
        guard r.status == 200, let listing = r.decoded(RedditWire.ByID.self) else { throw reddit.failure(r, during: "reading posts back (by_id)") }
        let found = Dictionary((listing.data?.children ?? []).map { ($0.data.id, $0.data) }, uniquingKeysWith: { a, _ in a })
        var out: [String: Sighting] = [:]
        for p in posts {
            guard let t = found[p.remoteId] else {
                out[p.remoteId] = .absent("by_id has no post t3_\(p.remoteId)")
                continue
            }
            if let who = t.removed_by_category {
                out[p.remoteId] = .removed("removed_by_category=\(who)")
                continue
            }
            out[p.remoteId] = .seen(
                SeenPost(privacy: nil, metrics: PostMetrics(likes: t.ups ?? t.score, comments: t.num_comments), says: "by_id: \(t.permalink ?? p.remoteId)"))
        }
        return out
    }
}

extension RedditWire {
    struct ByID: Decodable {
        struct Listing: Decodable {
            struct Child: Decodable {
                struct Post: Decodable {
                    var id: String
                    var permalink: String?
                    var score: Int64?
                    var ups: Int64?
                    var num_comments: Int64?
                    var removed_by_category: String?
                }
                var data: Post
            }
            var children: [Child]?
        }
        var data: Listing?
    }
}
