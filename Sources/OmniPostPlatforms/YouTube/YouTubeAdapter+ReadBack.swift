import Foundation
import NIOCore
import OmniPostCore

/// Read back through `videos.list` (part=status,processingDetails,statistics; up to 50 ids a call, 1
/// quota unit). YouTube locks uploads from unverified API projects private (videos.insert's
/// documentation): a video asked public or unlisted that shows `private`, with no schedule, is that lock.
extension YouTubeAdapter {
    package func readBack(_ posts: [PostRef]) async throws -> [String: Sighting] {
        let ids = posts.map(\.remoteId).joined(separator: ",")
        let resp = try await settings.api.send(
            url: account.endpoint + "/youtube/v3/videos?part=status,processingDetails,statistics&id=\(ids)", method: .GET, headers: [],
            body: ByteBuffer())
        guard resp.status == 200, let list = resp.decoded(YouTubeWire.VideoList.self) else {
            throw Self.classify(resp, during: "reading videos back (videos.list)")
        }
        let items = Dictionary((list.items ?? []).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [String: Sighting] = [:]
        for p in posts {
            guard let v = items[p.remoteId] else {
                out[p.remoteId] = .absent("videos.list has no item for \(p.remoteId)")
                continue
            }
            let upload = v.status?.uploadStatus ?? ""
            let privacy = v.status?.privacyStatus
            let says = "status.privacyStatus=\(privacy ?? "?"), uploadStatus=\(upload)"
            if ["rejected", "deleted", "failed"].contains(upload) {
                let why = v.status?.rejectionReason ?? v.status?.failureReason ?? upload
                out[p.remoteId] = .removed("status.uploadStatus=\(upload) (\(why))")
                continue
            }
            let processing = upload == "uploaded" || v.processingDetails?.processingStatus == "processing"
            let scheduled = v.status?.publishAt.flatMap { ISO8601DateFormatter().date(from: $0) }
            let locked = privacy == "private" && p.asked != .private && p.publishAt == nil
            let s = v.statistics
            out[p.remoteId] = .seen(
                SeenPost(
                    privacy: privacy, processing: processing, locked: locked, scheduledFor: scheduled,
                    metrics: PostMetrics(
                        views: s?.viewCount.flatMap { Int64($0) }, likes: s?.likeCount.flatMap { Int64($0) },
                        comments: s?.commentCount.flatMap { Int64($0) }),
                    says: says))
        }
        return out
    }
}

extension YouTubeWire {
    /// `videos.list`'s answer, the parts read back; counts are strings on the wire.
    struct VideoList: Decodable {
        struct Item: Decodable {
            struct Status: Decodable {
                var uploadStatus: String?
                var privacyStatus: String?
                var publishAt: String?
                var failureReason: String?
                var rejectionReason: String?
            }
            struct Processing: Decodable { var processingStatus: String? }
            struct Statistics: Decodable {
                var viewCount: String?
                var likeCount: String?
                var commentCount: String?
            }
            var id: String
            var status: Status?
            var processingDetails: Processing?
            var statistics: Statistics?
        }
        var items: [Item]?
    }
}
