import Foundation
import NIOCore
import OmniPostCore

/// Read back through `archive/view` (one archive a call): `state` 0 is open to all; below zero while
/// processing or in review (-30, -1), sent back by review (-2) or locked (-4) — the last two are Bilibili
/// taking it down. Code -404 is an archive Bilibili does not show.
extension BilibiliAdapter {
    package func readBack(_ posts: [PostRef]) async throws -> [String: Sighting] {
        var out: [String: Sighting] = [:]
        for p in posts {
            let r = try await api.send(url: url("archive/view", [("resource_id", p.remoteId)]), method: .GET, headers: [], body: ByteBuffer())
            if BilibiliErrors.code(r) == -404 {
                out[p.remoteId] = .absent("archive/view: -404 for \(p.remoteId)")
                continue
            }
            let a = try Self.envelope(r, BilibiliWire.ArchiveView.self, during: "reading the archive back")
            let state = a.state ?? 0
            let says = "state=\(state) (\(a.state_desc ?? ""))"
            switch state {
            case 0: out[p.remoteId] = .seen(SeenPost(privacy: nil, says: says))
            case -2, -4, -100: out[p.remoteId] = .removed(says)
            default: out[p.remoteId] = .seen(SeenPost(privacy: nil, processing: true, says: says))
            }
        }
        return out
    }
}

extension BilibiliWire {
    struct ArchiveView: Decodable {
        var resource_id: String?
        var state: Int?
        var state_desc: String?
    }
}
