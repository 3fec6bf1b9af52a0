import Foundation
import NIOCore

/// YouTube's resumable upload: chunks PUT to the session URI with `Content-Range`, 308 with the `Range`
/// the server holds (always trusted: it may hold less than was sent), 200/201 with the video when the
/// last byte arrived, 404/410 when the session expired. After a cut chunk, `bytes */T` says where the
/// upload stands.
package struct YouTubeResumable: UploadProtocol {
    /// The session URI YouTube hands out in `Location`.
    package typealias Session = SessionText
    let adapter: YouTubeAdapter

    package func nextPart(of s: SessionText, confirmed: Int64, size: Int64) -> Part? {
        guard confirmed < size else { return nil }
        return Part(index: Int(confirmed / adapter.partSize), offset: confirmed, length: min(adapter.partSize, size - confirmed))
    }

    package func send(_ part: Part, _ bytes: ByteBuffer, session s: inout SessionText, job: UploadJob) async throws -> PartReply {
        // The part's bytes go on the client that follows no redirect (`AdapterSettings.parts`).
        let resp = try await adapter.settings.parts.send(
            url: s.text, method: .PUT,
            headers: [
                ("Content-Type", job.contentType),
                ("Content-Range", "bytes \(part.offset)-\(part.end - 1)/\(job.size)")
            ], body: bytes)
        return try interpret(resp, during: "sending bytes \(part.offset)–\(part.end - 1)")
    }

    /// The `bytes */T` status query.
    package func standing(of s: SessionText, job: UploadJob) async throws -> PartReply {
        let resp = try await adapter.send(url: s.text, method: .PUT, headers: [("Content-Range", "bytes */\(job.size)")], body: ByteBuffer())
        return try interpret(resp, during: "asking where the upload stands")
    }

    func interpret(_ resp: AuthorizedHTTP.Reply, during: String) throws -> PartReply {
        switch resp.status {
        case 308:
            // Always trust Range. No Range header: nothing stored yet.
            if let r = resp.headers.first(name: "Range"), let dash = r.lastIndex(of: "-"), let last = Int64(r[r.index(after: dash)...]) {
                return .confirmed(last + 1)
            }
            return .confirmed(0)
        case 200, 201:
            guard let video = resp.decoded(YouTubeWire.Video.self) else {
                throw DeliveryError(.retryNow, .rejectedByPlatform, "the final reply carried no video id", httpStatus: resp.status)
            }
            if let st = video.status, let us = st.uploadStatus, ["failed", "rejected"].contains(us) {
                throw DeliveryError(.permanent, .rejectedByPlatform, "YouTube \(us) the video: \(st.failureReason ?? st.rejectionReason ?? us)", httpStatus: resp.status)
            }
            return .complete(video.id)
        case 404, 410:
            throw SessionGone("the upload session expired")
        default:
            throw YouTubeAdapter.classify(resp, during: during)
        }
    }
}

/// The bodies of YouTube Data API v3's videos.insert and its errors.
enum YouTubeWire {
    struct Insert: Encodable {
        var snippet: Snippet
        var status: Status
    }

    struct Snippet: Encodable {
        var title: String
        var description: String
        var tags: [String]
        var categoryId: String
        var defaultLanguage: String? = nil
    }

    struct Status: Encodable {
        var privacyStatus: String
        var publishAt: String? = nil
        var selfDeclaredMadeForKids: Bool
        var containsSyntheticMedia: Bool?
        var license: String? = nil
        var embeddable: Bool? = nil
    }

    struct Video: Decodable {
        struct Status: Decodable {
            var uploadStatus: String?
            var failureReason: String?
            var rejectionReason: String?
        }
        var id: String
        var status: Status?
    }

    struct ErrorReply: Decodable {
        struct Body: Decodable {
            struct Item: Decodable { var reason: String? }
            var message: String?
            var errors: [Item]?
        }
        var error: Body?
    }
}
