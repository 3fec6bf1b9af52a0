import Foundation
import NIOCore

/// TikTok's FILE_UPLOAD transport: chunks PUT in order to the upload URL with `Content-Range` (206 until
/// the last, 201), the last chunk absorbing the remainder. Chunks go strictly in order, so after a cut
/// one the upload continues from what TikTok says it holds (`uploaded_bytes`).
package struct TikTokChunks: UploadProtocol {
    let adapter: TikTokAdapter

    package func nextPart(of s: TikTokAdapter.Session, confirmed: Int64, size: Int64) -> Part? {
        guard confirmed < size else { return nil }
        let index = Int(confirmed / s.chunkSize)
        return Part(index: index, offset: confirmed, length: index == s.chunkCount - 1 ? size - confirmed : s.chunkSize)
    }

    package func send(_ part: Part, _ bytes: ByteBuffer, session s: inout TikTokAdapter.Session, job: UploadJob) async throws -> PartReply {
        let r = try await adapter.settings.parts.send(
            url: s.uploadURL, method: .PUT,
            headers: [
                ("Content-Type", job.contentType), ("Content-Range", "bytes \(part.offset)-\(part.end - 1)/\(job.size)")
            ], body: bytes, authorize: false)
        switch r.status {
        case 206, 201: return .confirmed(part.end)
        // The upload URL expired (it lives an hour) before the last chunk: that publish can never
        // complete, so a fresh init cannot double-post.
        case 403, 404: throw SessionGone("the upload URL expired")
        default: throw TikTokAdapter.classify(r, during: "sending chunk \(part.index + 1) of \(s.chunkCount)")
        }
    }

    package func standing(of s: TikTokAdapter.Session, job: UploadJob) async throws -> PartReply {
        .confirmed(try await adapter.fetchStatus(s.publishID).uploaded_bytes ?? 0)
    }
}

/// The bodies TikTok's Content Posting API takes and gives.
package enum TikTokWire {
    struct Envelope<T: Decodable>: Decodable {
        var data: T?
        var error: Failure?
    }

    struct Failure: Decodable {
        var code: String?
        var message: String?
    }

    /// What creator_info says this creator may do (the UX guidelines: obey each before posting).
    package struct CreatorInfo: Decodable, Sendable {
        var privacy_level_options: [String]?
        var comment_disabled: Bool?
        var duet_disabled: Bool?
        var stitch_disabled: Bool?
        var max_video_post_duration_sec: Int?
    }

    struct PostInfo: Encodable {
        var title: String
        var privacy_level: String
        var disable_duet: Bool
        var disable_stitch: Bool
        var disable_comment: Bool
        var brand_content_toggle: Bool
        var brand_organic_toggle: Bool
        var is_aigc: Bool
        var video_cover_timestamp_ms: Int?
    }

    struct SourceInfo: Encodable {
        var source: String
        var video_size: Int64
        var chunk_size: Int64
        var total_chunk_count: Int
    }

    struct Init: Encodable {
        var post_info: PostInfo
        var source_info: SourceInfo
    }

    /// Upload to inbox: the file only; TikTok takes no text with it.
    struct InboxInit: Encodable {
        var source_info: SourceInfo
    }

    struct Started: Decodable {
        var publish_id: String?
        var upload_url: String?
    }

    struct StatusQuery: Encodable {
        var publish_id: String
    }

    /// `publicaly_available_post_id` is TikTok's own spelling.
    struct Status: Decodable {
        var status: String?
        var fail_reason: String?
        var publicaly_available_post_id: [LooseString]?
        var uploaded_bytes: Int64?
    }
}
