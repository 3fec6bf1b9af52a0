import Foundation
import OmniPostCore

/// Read back through the reel's video object with the Page's token (`status,privacy,published`): done
/// once `publishing_phase.status` is `complete` (or `publish_status` is `scheduled` with its
/// `publish_time`); `privacy.value` is Facebook's audience (`EVERYONE`, `SELF`…). A reel the Page no
/// longer has "does not exist".
extension FacebookAdapter {
    package func readBack(_ posts: [PostRef]) async throws -> [String: Sighting] {
        let token = try await pageToken().token
        var out: [String: Sighting] = [:]
        for p in posts {
            switch try await graph.readObject(p.remoteId, fields: "status,privacy,published,permalink_url", as: FacebookWire.Seen.self, token: token) {
            case .failure(let missing): out[p.remoteId] = .absent(missing.says)
            case .success(let v):
                let st = v.status
                if st?.video_status == "error" {
                    out[p.remoteId] = .removed("status.video_status=error")
                    continue
                }
                let scheduled = st?.publishing_phase?.publish_status == "scheduled"
                let at = st?.publishing_phase?.publish_time.map { Date(timeIntervalSince1970: Double($0)) }
                let done = st?.publishing_phase?.status == "complete" || scheduled
                let audience = v.privacy?.value
                out[p.remoteId] = .seen(
                    SeenPost(
                        privacy: audience.map { $0 == "EVERYONE" ? Privacy.public.rawValue : $0 == "SELF" ? Privacy.private.rawValue : $0.lowercased() },
                        processing: !done, scheduledFor: scheduled ? at : nil,
                        says: "status.video_status=\(st?.video_status ?? "?"), publish_status=\(st?.publishing_phase?.publish_status ?? "?"), privacy=\(audience ?? "?")"
                    ))
            }
        }
        return out
    }
}

extension FacebookWire {
    struct Seen: Decodable {
        struct Status: Decodable {
            struct Publishing: Decodable {
                var status: String?
                var publish_status: String?
                var publish_time: Int64?
            }
            var video_status: String?
            var publishing_phase: Publishing?
        }
        struct Audience: Decodable { var value: String? }
        var status: Status?
        var privacy: Audience?
        var published: Bool?
    }
}
