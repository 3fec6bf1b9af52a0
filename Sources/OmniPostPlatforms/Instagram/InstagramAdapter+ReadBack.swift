import Foundation
import OmniPostCore

/// Read back through the media's fields (`id,permalink,media_product_type,like_count,comments_count`):
/// a reel Instagram shows is there with its likes and comments; every reel is public. Its views, shares,
/// saves and watch time are the media's insights, a second call not made here.
extension InstagramAdapter {
    package func readBack(_ posts: [PostRef]) async throws -> [String: Sighting] {
        var out: [String: Sighting] = [:]
        for p in posts {
            switch try await graph.readObject(
                p.remoteId, fields: "id,permalink,media_product_type,like_count,comments_count", as: InstagramWire.Media.self)
            {
            case .failure(let missing): out[p.remoteId] = .absent(missing.says)
            case .success(let m):
                out[p.remoteId] = .seen(
                    SeenPost(
                        privacy: nil, metrics: PostMetrics(likes: m.like_count, comments: m.comments_count),
                        says: "\(m.media_product_type ?? "media") \(m.permalink ?? m.id)"))
            }
        }
        return out
    }
}

/// Instagram's replies read back.
enum InstagramWire {
    struct Media: Decodable {
        var id: String
        var permalink: String?
        var media_product_type: String?
        var like_count: Int64?
        var comments_count: Int64?
    }
}
