import Foundation
import OmniPostCore

/// Read back by looking at the share: the file is there under its final name (never the hidden partial
/// name), its size on disk said. A folder has no privacy and no numbers.
extension FolderAdapter {
    func readBack(_ posts: [PostRef]) async throws -> [String: Sighting] {
        var out: [String: Sighting] = [:]
        for p in posts {
            let path = (folder as NSString).appendingPathComponent(p.remoteId)
            if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber {
                out[p.remoteId] = .seen(SeenPost(privacy: nil, says: "\(path): \(size.int64Value) bytes"))
            } else {
                out[p.remoteId] = .absent("\(path) is not there")
            }
        }
        return out
    }
}
