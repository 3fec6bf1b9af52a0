import Foundation
import OmniPostCore

/// Read back by `HEAD` of the upload URL (tus core protocol): the upload is there, whole when its
/// `Upload-Offset` equals its `Upload-Length`; 404 or 410 when the server no longer has it.
extension TusAdapter {
    func readBack(_ posts: [PostRef]) async throws -> [String: Sighting] {
        var out: [String: Sighting] = [:]
        for p in posts {
            guard let held = try await tus.offset(p.remoteId) else {
                out[p.remoteId] = .absent("HEAD \(p.remoteId): the server no longer has the upload")
                continue
            }
            let whole = held.length.map { held.offset == $0 } ?? false
            out[p.remoteId] = .seen(
                SeenPost(privacy: nil, processing: !whole, says: "Upload-Offset \(held.offset) of \(held.length.map(String.init) ?? "?")"))
        }
        return out
    }
}
