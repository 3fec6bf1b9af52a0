import Foundation
import OmniPostCore

/// Read back through the Threads media object (`id,permalink,timestamp`): a post Threads shows is there;
/// every post is public. Its counts are the media's insights, a second call not made here.
extension ThreadsAdapter {
    package func readBack(_ posts: [PostRef]) async throws -> [String: Sighting] {
        var out: [String: Sighting] = [:]
        for p in posts {
            switch try await graph.readObject(p.remoteId, fields: "id,permalink,timestamp", as: ThreadsWire.Media.self) {
            case .failure(let missing): out[p.remoteId] = .absent(missing.says)
            case .success(let m): out[p.remoteId] = .seen(SeenPost(privacy: nil, says: "permalink \(m.permalink ?? m.id)"))
            }
        }
        return out
    }
}

/// Threads' replies read back.
enum ThreadsWire {
    struct Media: Decodable {
        var id: String
        var permalink: String?
    }
}
