import Foundation
import OmniPostCore

/// A receiver's 2xx is its acknowledgement, and a webhook has no read endpoint to ask what it kept
/// (its descriptor says so: `ReadBack.notApplicable`).
extension WebhookAdapter {
    func readBack(_ posts: [PostRef]) async throws -> [String: Sighting] {
        Dictionary(uniqueKeysWithValues: posts.map { ($0.remoteId, Sighting.seen(SeenPost(privacy: nil, says: "the receiver acknowledged \($0.remoteId)"))) })
    }
}
