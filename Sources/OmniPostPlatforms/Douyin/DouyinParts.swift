import Foundation
import NIOCore

/// Douyin's transport: the whole file in one `upload_video` request, or numbered parts
/// (`upload_video_part?upload_id=…&part_number=n`, from 1), each a multipart form with the bytes in
/// `video`. Douyin keeps parts by number, so a cut one is simply sent again (the engine's default
/// `.resend`): the same number replaces whatever half of it arrived. Every part but the last is the
/// session's part size (at least 5 MB); the last takes the rest.
package struct DouyinParts: UploadProtocol {
    let adapter: DouyinAdapter
    /// One boundary for the chunk loop's run: its frames and `send`'s Content-Type name the same.
    let boundary = "omnipost-" + UUID().uuidString

    /// `complete_video_part_upload` makes the video of the parts held.
    package var lastPartCompletes: Bool { false }

    /// Each part's form, around its bytes as read: `send` gets the whole body.
    package func frame(of part: Part, session: DouyinAdapter.Session, job: UploadJob) -> PartFrame? {
        MultipartForm.frame(boundary: boundary, file: "video", filename: "video.mp4", contentType: job.contentType)
    }

    package func send(_ part: Part, _ body: ByteBuffer, session s: inout DouyinAdapter.Session, job: UploadJob) async throws -> PartReply {
        let headers = [("Content-Type", MultipartForm(boundary: boundary).contentType)]
        guard let id = s.uploadID else {
            let r = try await adapter.settings.parts.send(url: adapter.url("upload_video/"), method: .POST, headers: headers, body: body)
            let up = try DouyinAdapter.envelope(r, DouyinWire.Uploaded.self, during: "uploading the video")
            guard let video = up.video?.video_id else { throw DeliveryError(.retryNow, .platformError, "Douyin's upload_video answer had no video_id") }
            s.videoID = video
            return .confirmed(part.end)
        }
        let r = try await adapter.settings.parts.send(
            url: adapter.url("upload_video_part/", [("upload_id", id), ("part_number", String(part.index + 1))]), method: .POST, headers: headers,
            body: body)
        if DouyinAdapter.sessionRefused(r) { throw SessionGone(DouyinAdapter.message(r)) }
        _ = try DouyinAdapter.envelope(r, DouyinWire.Failure.self, during: "sending part \(part.index + 1)")
        return .confirmed(part.end)
    }
}

/// The bodies Douyin's video endpoints take and give: every answer is `{"data": {…, "error_code",
/// "description"}, "extra": {"error_code", "description", "sub_error_code", "logid", "now"}}`.
enum DouyinWire {
    struct Envelope<T: Decodable>: Decodable {
        var data: T?
        var extra: Failure?
    }

    struct Failure: Decodable {
        var error_code: Int?
        var description: String?
    }

    /// The envelope's error code: `data.error_code`, else `extra.error_code`; nil when neither is there.
    static func errorCode(_ r: AuthorizedHTTP.Reply) -> Int? {
        guard let e = r.decoded(Envelope<Failure>.self) else { return nil }
        return e.data?.error_code ?? e.extra?.error_code
    }

    struct PartInit: Decodable { var upload_id: String? }

    struct Uploaded: Decodable {
        struct Video: Decodable {
            var video_id: String?
            var width: Int?
            var height: Int?
        }
        var video: Video?
    }

    struct Create: Encodable {
        var video_id: String
        var text: String
        /// The frame to make the cover, in seconds.
        var cover_tsp: Double?
        /// The open_ids of the users the text @-mentions.
        var at_users: [String]?
        var poi_id: String?
        var micro_app_id: String?
    }

    struct Created: Decodable { var item_id: String? }

    struct ItemList: Decodable {
        var list: [Item]?
        var has_more: Bool?
        var cursor: Int64?
    }

    /// One of the account's items. `video_status`: 1 published, 2 not fit to be public, 4 under review.
    struct Item: Decodable {
        var item_id: String?
        var title: String?
        var create_time: Int64?
        var share_url: String?
        var video_status: Int?
        var is_reviewed: Bool?
    }

    struct User: Decodable {
        var open_id: String?
        var nickname: String?
        var error_code: Int?
    }
}
