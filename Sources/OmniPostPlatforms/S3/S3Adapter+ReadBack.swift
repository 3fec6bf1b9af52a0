import Foundation
import OmniPostCore

/// Read back by `HEAD` of the key: the object is there with our sha256 in its metadata, or it is not.
/// S3 is read-after-write consistent (since December 2020), so a stored object shows at once; a bucket
/// has no privacy word of ours and no numbers.
extension S3Adapter {
    func readBack(_ posts: [PostRef]) async throws -> [String: Sighting] {
        var out: [String: Sighting] = [:]
        for p in posts {
            if let h = try await bucket.head(p.remoteId) {
                let sha = h.first(name: "x-amz-meta-omnipost-sha256") ?? "?"
                out[p.remoteId] = .seen(SeenPost(privacy: nil, says: "HEAD \(p.remoteId): \(h.first(name: "content-length") ?? "?") bytes, sha256 \(sha)"))
            } else {
                out[p.remoteId] = .absent("HEAD \(p.remoteId) answered 404")
            }
        }
        return out
    }
}
