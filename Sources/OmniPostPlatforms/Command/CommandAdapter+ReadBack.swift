import Foundation
import OmniPostCore

/// A program's work is its own: what it did is what it printed when it ended with 0, and there is
/// nothing of OmniPost's to read back (its descriptor says so: `ReadBack.notApplicable`).
extension CommandAdapter {
    func readBack(_ posts: [PostRef]) async throws -> [String: Sighting] {
        Dictionary(uniqueKeysWithValues: posts.map { ($0.remoteId, Sighting.seen(SeenPost(privacy: nil, says: "the program reported \($0.remoteId)"))) })
    }
}
