import Foundation
import OmniPostCore

/// Read back through `video/video_data/` (20 item ids a call): a published item (`video_status` 1) with
/// its plays, likes, comments and shares; 4 is under review (not yet); 2 is "not suitable for the
/// public" — Douyin keeps it to its author, which is its removal. An item not in the list is not shown.
extension DouyinAdapter {
    package func readBack(_ posts: [PostRef]) async throws -> [String: Sighting] {
        let r = try await api.send(url: url("video_data/"), json: DouyinWire.DataQuery(item_ids: posts.map(\.remoteId)))
        let list = try Self.envelope(r, DouyinWire.DataList.self, during: "reading items back (video_data)").list ?? []
        let byID = Dictionary(list.compactMap { i in i.item_id.map { ($0, i) } }, uniquingKeysWith: { a, _ in a })
        var out: [String: Sighting] = [:]
        for p in posts {
            guard let i = byID[p.remoteId] else {
                out[p.remoteId] = .absent("video_data has no item \(p.remoteId)")
                continue
            }
            if i.video_status == 2 {
                out[p.remoteId] = .removed("video_status=2 (不适宜公开: not suitable for the public)")
                continue
            }
            let s = i.statistics
            out[p.remoteId] = .seen(
                SeenPost(
                    privacy: nil, processing: i.video_status == 4,
                    metrics: PostMetrics(views: s?.play_count, likes: s?.digg_count, comments: s?.comment_count, shares: s?.share_count),
                    says: "video_status=\(i.video_status.map(String.init) ?? "?")"))
        }
        return out
    }
}

extension DouyinWire {
    struct DataQuery: Encodable { var item_ids: [String] }
    struct DataList: Decodable {
        struct Item: Decodable {
            struct Statistics: Decodable {
                var play_count: Int64?
                var digg_count: Int64?
                var comment_count: Int64?
                var share_count: Int64?
            }
            var item_id: String?
            var video_status: Int?
            var statistics: Statistics?
        }
        var list: [Item]?
    }
}
