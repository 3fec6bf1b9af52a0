import Foundation
import OmniPostCore

/// Read back through `GET /videos/{id}` (one video a call): `status` is `available` once transcoded,
/// `privacy.view` says who may watch, `stats.plays` counts plays, and its likes and comments are the
/// totals of its `metadata.connections`. A video Vimeo no longer has answers 404.
extension VimeoAdapter {
    package func readBack(_ posts: [PostRef]) async throws -> [String: Sighting] {
        var out: [String: Sighting] = [:]
        for p in posts {
            let path = "/videos/\(p.remoteId)?fields=uri,status,privacy.view,stats.plays,metadata.connections.likes.total,metadata.connections.comments.total"
            let (resp, body) = try await call(.GET, path)
            if resp.status == .notFound {
                out[p.remoteId] = .absent("GET /videos/\(p.remoteId) answered 404")
                continue
            }
            guard resp.status == .ok, let v = try? JSONDecoder().decode(VimeoWire.Seen.self, from: body) else {
                throw failure(resp, body, "reading /videos/\(p.remoteId) back")
            }
            let status = v.status ?? ""
            if ["transcoding_error", "upload_error", "quota_exceeded", "total_cap_exceeded"].contains(status) {
                out[p.remoteId] = .removed("status=\(status)")
                continue
            }
            let view = v.privacy?.view
            out[p.remoteId] = .seen(
                SeenPost(
                    privacy: view.map { Module.descriptor.facts.ourPrivacy($0, asked: p.asked) }, processing: status != "available",
                    metrics: PostMetrics(
                        views: v.stats?.plays, likes: v.metadata?.connections?.likes?.total, comments: v.metadata?.connections?.comments?.total),
                    says: "status=\(status), privacy.view=\(view ?? "?")"))
        }
        return out
    }
}

extension VimeoWire {
    struct Seen: Decodable {
        struct Privacy: Decodable { var view: String? }
        struct Stats: Decodable { var plays: Int64? }
        struct Total: Decodable { var total: Int64? }
        struct Connections: Decodable {
            var likes: Total?
            var comments: Total?
        }
        struct Metadata: Decodable { var connections: Connections? }
        var status: String?
        var privacy: Privacy?
        var stats: Stats?
        var metadata: Metadata?
    }
}
