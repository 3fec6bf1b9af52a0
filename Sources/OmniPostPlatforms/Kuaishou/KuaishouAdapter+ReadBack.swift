import Foundation
import NIOCore
import OmniPostCore

/// Read back through the account's works (`openapi/photo/list`, newest first, up to 200 a page — the
/// same read an uncertain publish is settled by): a work listed is shown, with `pending` while Kuaishou
/// still processes it and its `view_count`, `like_count`, `comment_count`; one not listed is not shown
/// (Kuaishou documents no per-work status for removal: a work it took down leaves the list).
extension KuaishouAdapter {
    package func readBack(_ posts: [PostRef]) async throws -> [String: Sighting] {
        let r = try await api.send(url: url("photo/list", [("count", "200")]), method: .GET, headers: [], body: ByteBuffer())
        let list = try Self.answer(r, KuaishouWire.WorkList.self, during: "reading the account's works back").video_list ?? []
        let byID = Dictionary(list.compactMap { w in w.photo_id.map { ($0, w) } }, uniquingKeysWith: { a, _ in a })
        var out: [String: Sighting] = [:]
        for p in posts {
            guard let w = byID[p.remoteId] else {
                out[p.remoteId] = .absent("photo/list does not show work \(p.remoteId)")
                continue
            }
            out[p.remoteId] = .seen(
                SeenPost(
                    privacy: nil, processing: w.pending == true,
                    metrics: PostMetrics(views: w.view_count, likes: w.like_count, comments: w.comment_count),
                    says: "listed\(w.pending == true ? ", pending" : "")"))
        }
        return out
    }
}
