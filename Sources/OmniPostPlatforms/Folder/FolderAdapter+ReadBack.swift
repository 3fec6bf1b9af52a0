import Foundation
import OmniPostCore

/// Read back by looking at the share: the file is there under its final name (never the hidden partial
/// name), its size on disk said. A folder has no privacy and no numbers.
extension FolderAdapter {
    /// How long a look may hang before it is given up: a share that stopped answering (a hung NFS or SMB
    /// mount) must not hold the upload stage — its first read is made before the post's commit — nor a
    /// thread of the cooperative pool. A look given up throws: the post stays unread, and the verify stage
    /// looks again later; it is never taken for a post that is missing.
    static let lookStall: Duration = .seconds(10)

    func readBack(_ posts: [PostRef]) async throws -> [String: Sighting] {
        let folder = folder
        return try await StallGuard.run("looking in \(folder)", stall: Self.lookStall) { _ in
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
}
