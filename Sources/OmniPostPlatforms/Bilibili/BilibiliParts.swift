import Foundation
import NIOCore

/// Bilibili's transport: the whole file in one `archive/video/upload` request (multipart `file`), or
/// numbered parts (`video/v2/part/upload?upload_token=…&part_number=n`, from 1, the bytes as the body)
/// to the upload host, which takes them under the upload token alone. Parts are kept by number, so a cut
/// one is sent again (the engine's default `.resend`). Every part but the last is the session's part size.
package struct BilibiliParts: UploadProtocol {
    let adapter: BilibiliAdapter
    /// One boundary for the chunk loop's run: its frames and `send`'s Content-Type name the same.
    let boundary = "omnipost-" + UUID().uuidString

    /// `video/complete` merges the parts held (a single upload is whole: `finish` skips it).
    package var lastPartCompletes: Bool { false }

    /// A single upload's form, around the file's bytes as read (`send` gets the whole body); parts go bare.
    package func frame(of part: Part, session s: BilibiliAdapter.Session, job: UploadJob) -> PartFrame? {
        s.single ? MultipartForm.frame(boundary: boundary, file: "file", filename: "video.mp4", contentType: job.contentType) : nil
    }

    package func send(_ part: Part, _ bytes: ByteBuffer, session s: inout BilibiliAdapter.Session, job: UploadJob) async throws -> PartReply {
        let r: AuthorizedHTTP.Reply
        if s.single {
            r = try await adapter.settings.parts.send(
                url: adapter.url("archive/video/upload", [("upload_token", s.uploadToken)]), method: .POST,
                headers: [("Content-Type", MultipartForm(boundary: boundary).contentType)], body: bytes)
        } else {
            let query = TokenProvider.form([("upload_token", s.uploadToken), ("part_number", String(part.index + 1))])
            r = try await adapter.settings.parts.send(
                url: adapter.uploadHost + "/video/v2/part/upload?" + query, method: .POST,
                headers: [("Content-Type", "application/octet-stream")], body: bytes, authorize: false)
        }
        if BilibiliAdapter.sessionRefused(r) { throw SessionGone(BilibiliAdapter.message(r)) }
        _ = try BilibiliAdapter.envelope(r, BilibiliWire.Nothing.self, during: "sending part \(part.index + 1)")
        return .confirmed(part.end)
    }
}

/// The bodies Bilibili's open platform takes and gives: every answer is `{"code", "message", "ttl", "data"}`.
enum BilibiliWire {
    struct Envelope<T: Decodable>: Decodable {
        var code: Int?
        var message: String?
        var data: T?
    }

    struct Nothing: Codable {}

    struct Init: Encodable {
        var name: String
        /// "1": the file in one request (≤ 100 MB); "0": parts.
        var utype: String
    }

    struct Started: Decodable { var upload_token: String? }

    struct Cover: Decodable { var url: String? }

    struct Submit: Encodable {
        var title: String
        var cover: String
        /// The category (分区), required.
        var tid: Int
        var no_reprint: Int
        var desc: String
        /// Comma-separated, required.
        var tag: String
        /// 1 original, 2 a repost (with `source`).
        var copyright: Int
        var source: String?
    }

    struct Submitted: Decodable { var resource_id: String? }

    struct ArchiveList: Decodable {
        var list: [Archive]?
    }

    struct Archive: Decodable {
        var resource_id: String?
        var title: String?
        var ctime: Int64?
    }

    struct User: Decodable {
        var name: String?
        var openid: String?
    }
}
