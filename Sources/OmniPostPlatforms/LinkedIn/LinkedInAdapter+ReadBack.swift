import Foundation
import OmniPostCore

/// Read back through `GET /rest/posts/{urn}` (one post a call): a `PUBLISHED` post with its `visibility`
/// (LinkedIn's word, mapped to ours by the descriptor). A post LinkedIn no longer has answers 404. Its
/// numbers are the Member Post Statistics API's (`LinkedInAdapter+Insights`), read on the same schedule.
extension LinkedInAdapter {
    package func readBack(_ posts: [PostRef]) async throws -> [String: Sighting] {
        var out: [String: Sighting] = [:]
        for p in posts {
            let r = try await rest("/rest/posts/" + Self.encodeURN(p.remoteId))
            if r.status == 404 {
                out[p.remoteId] = .absent("GET /rest/posts answered 404 for \(p.remoteId)")
                continue
            }
            guard r.status == 200, let post = r.decoded(LinkedInWire.SeenPost.self) else { throw Self.classify(r, during: "reading the post back") }
            let state = post.lifecycleState ?? ""
            if state == "DELETED" {
                out[p.remoteId] = .removed("lifecycleState=DELETED")
                continue
            }
            out[p.remoteId] = .seen(
                SeenPost(
                    privacy: post.visibility.map { Module.descriptor.facts.ourPrivacy($0, asked: p.asked) },
                    processing: state == "DRAFT" || state == "PROCESSING", says: "lifecycleState=\(state), visibility=\(post.visibility ?? "?")"))
        }
        return out
    }
}

extension LinkedInWire {
    struct SeenPost: Decodable {
        var id: String?
        var visibility: String?
        var lifecycleState: String?
    }
}
