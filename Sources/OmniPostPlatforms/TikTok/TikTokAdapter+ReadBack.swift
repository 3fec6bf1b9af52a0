import Foundation
import OmniPostCore

/// Read back through the Display API's `video/query` (20 ids a call; the `video.list` scope): a post
/// id TikTok made public is among `data.videos` with its counts. It names no privacy, so a post is
/// verified by being there; an inbox draft has no post id until the creator posts it, so it is never shown.
extension TikTokAdapter {
    package func readBack(_ posts: [PostRef]) async throws -> [String: Sighting] {
        let fields = "id,create_time,share_url,view_count,like_count,comment_count,share_count"
        let r = try await api.send(
            url: account.endpoint + "/v2/video/query/?fields=\(fields)", json: TikTokWire.VideoQuery(filters: .init(video_ids: posts.map(\.remoteId))))
        let videos = try Self.envelope(r, TikTokWire.VideoList.self, during: "reading posts back (video/query)")?.videos ?? []
        let byID = Dictionary(videos.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [String: Sighting] = [:]
        for p in posts {
            guard let v = byID[p.remoteId] else {
                out[p.remoteId] = .absent("video/query has no video \(p.remoteId)")
                continue
            }
            out[p.remoteId] = .seen(
                SeenPost(
                    privacy: nil,
                    metrics: PostMetrics(views: v.view_count, likes: v.like_count, comments: v.comment_count, shares: v.share_count),
                    says: "video/query: \(v.share_url ?? v.id)"))
        }
        return out
    }
}

extension TikTokWire {
    struct VideoQuery: Encodable {
        struct Filters: Encodable { var video_ids: [String] }
        var filters: Filters
    }
    struct VideoList: Decodable {
        struct Video: Decodable {
            var id: String
            var share_url: String?
            var view_count: Int64?
            var like_count: Int64?
            var comment_count: Int64?
            var share_count: Int64?
        }
        var videos: [Video]?
    }
}
