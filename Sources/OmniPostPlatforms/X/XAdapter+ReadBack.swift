import Foundation
import NIOCore
import OmniPostCore

/// Read back through post lookup, `GET /2/tweets?ids=…&tweet.fields=public_metrics` (100 ids a call):
/// a missing post is an `errors` entry under HTTP 200. A post on X is public; it has no other privacy.
extension XAdapter {
    package func readBack(_ posts: [PostRef]) async throws -> [String: Sighting] {
        let ids = posts.map(\.remoteId).joined(separator: ",")
        let r = try await api.send(
            url: account.endpoint + "/2/tweets?ids=\(ids)&tweet.fields=public_metrics,created_at", method: .GET, headers: [], body: ByteBuffer())
        guard r.status == 200, let reply = r.decoded(XWire.Lookup.self) else {
            throw Self.classify(r, during: "reading posts back (GET /2/tweets)", accountRead: true)
        }
        let found = Dictionary((reply.data ?? []).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [String: Sighting] = [:]
        for p in posts {
            guard let t = found[p.remoteId] else {
                let e = reply.errors?.first { $0.resource_id == p.remoteId || $0.value == p.remoteId }
                out[p.remoteId] = .absent(e?.detail ?? "GET /2/tweets has no post \(p.remoteId)")
                continue
            }
            let m = t.public_metrics
            out[p.remoteId] = .seen(
                SeenPost(
                    privacy: nil,
                    metrics: PostMetrics(
                        views: m?.impression_count, likes: m?.like_count, comments: m?.reply_count,
                        shares: m.map { ($0.retweet_count ?? 0) + ($0.quote_count ?? 0) }, saves: m?.bookmark_count),
                    says: "GET /2/tweets: \(t.id)"))
        }
        return out
    }
}

extension XWire {
    struct Lookup: Decodable {
        struct Found: Decodable {
            struct Metrics: Decodable {
                var retweet_count: Int64?
                var reply_count: Int64?
                var like_count: Int64?
                var quote_count: Int64?
                var bookmark_count: Int64?
                var impression_count: Int64?
            }
            var id: String
            var public_metrics: Metrics?
        }
        struct Missing: Decodable {
            var resource_id: String?
            var value: String?
            var detail: String?
        }
        var data: [Found]?
        var errors: [Missing]?
    }
}
