import Foundation
import NIOCore

/// X's APPEND transport: segments of the session's size, each named by its index. X keeps segments by
/// index, so a cut one is simply sent again (the engine's default `.resend`): the same index replaces
/// whatever half of it arrived.
package struct XSegments: UploadProtocol {
    let api: AuthorizedHTTP
    let endpoint: String
    /// One boundary for the chunk loop's run (it holds one transport): its frames and `send`'s
    /// Content-Type must name the same.
    let boundary = "omnipost-" + UUID().uuidString

    /// FINALIZE makes the media of the segments held.
    package var lastPartCompletes: Bool { false }

    package func nextPart(of s: XAdapter.Session, confirmed: Int64, size: Int64) -> Part? {
        guard confirmed < size else { return nil }
        return Part(index: Int(confirmed / s.segmentSize), offset: confirmed, length: min(s.segmentSize, size - confirmed))
    }

    /// The segment's form, around its bytes as read (`frame`): `send` gets the whole body.
    package func frame(of part: Part, session: XAdapter.Session, job: UploadJob) -> PartFrame? {
        MultipartForm.frame(
            boundary: boundary, fields: [("segment_index", String(part.index))], file: "media", filename: "segment-\(part.index)",
            contentType: "application/octet-stream")
    }

    package func send(_ part: Part, _ body: ByteBuffer, session s: inout XAdapter.Session, job: UploadJob) async throws -> PartReply {
        let r = try await api.send(
            url: endpoint + "/2/media/upload/\(s.mediaID)/append", method: .POST,
            headers: [("Content-Type", MultipartForm(boundary: boundary).contentType)], body: body)
        if (200..<300).contains(r.status) { return .confirmed(part.end) }
        // An unfinished media id X no longer takes (expired, unknown): no post can come of it.
        if XAdapter.sessionRefused(r) { throw SessionGone(XAdapter.message(r)) }
        throw XAdapter.classify(r, during: "sending segment \(part.index)")
    }
}

/// The bodies X's media upload and post endpoints take and give (X API v2).
enum XWire {
    struct Initialize: Encodable {
        var media_type: String
        var total_bytes: Int64
        var media_category: String
    }

    struct Envelope<T: Decodable>: Decodable {
        var data: T?
        /// Some replies carry it beside `data` rather than in it.
        var processing_info: ProcessingInfo?
    }

    struct Media: Decodable {
        var id: LooseString
        var media_key: String?
        var expires_after_secs: Double?
        var processing_info: ProcessingInfo?
    }

    struct ProcessingInfo: Decodable {
        struct Failure: Decodable {
            var name: String?
            var code: LooseString?
            var message: String?
            var text: String { "\(name ?? "error") \(code?.value ?? ""): \(message ?? "")" }
        }
        var state: String?
        var check_after_secs: Double?
        var error: Failure?
    }

    struct User: Decodable {
        var id: String
        var username: String?
    }

    struct Post: Encodable {
        struct Media: Encodable { var media_ids: [String] }
        var text: String
        var media: Media
        var reply_settings: String?
    }

    struct Tweet: Decodable {
        struct Attachments: Decodable { var media_keys: [String]? }
        struct Reference: Decodable {
            var type: String
            var id: LooseString
        }
        var id: LooseString
        var text: String?
        var attachments: Attachments?
        var referenced_tweets: [Reference]?
    }

    struct Problem: Decodable {
        struct Item: Decodable {
            var message: String?
            var detail: String?
        }
        var detail: String?
        var title: String?
        var errors: [Item]?
    }
}
