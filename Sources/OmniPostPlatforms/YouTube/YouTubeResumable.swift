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
        let resp = try await Self.resumable(adapter.settings.parts).send(
            url: s.text, method: .PUT,
            headers: [
                ("Content-Type", job.contentType),
                ("Content-Range", "bytes \(part.offset)-\(part.end - 1)/\(job.size)")
            ], body: bytes)
        let reply = try interpret(resp, during: "sending bytes \(part.offset)–\(part.end - 1)")
        if let moved = Self.movedSession(resp, from: s.text) { s.text = moved }
        return reply
    }

    /// The `bytes */T` status query. A new URI its 308 names is not kept here (the session is not ours to
    /// change in this call): the next part's 308 names it again, as the service goes on naming it.
    package func standing(of s: SessionText, job: UploadJob) async throws -> PartReply {
        let resp = try await Self.resumable(adapter.settings.api).send(url: s.text, method: .PUT, headers: [("Content-Range", "bytes */\(job.size)")], body: ByteBuffer())
        return try interpret(resp, during: "asking where the upload stands")
    }

    /// The session's requests, with `308 Resume Incomplete` handed back even when it names a `Location` on
    /// the session's own host: that 308 is this protocol's answer (how much is held), not a redirect, and
    /// its `Location` is where the session goes on. One naming another host is refused as a redirect.
    static func resumable(_ http: AuthorizedHTTP) -> AuthorizedHTTP {
        var http = http
        http.protocolAnswers = [308]
        return http
    }

    /// The session URI a `308` names, resolved against the one it answered, when it names another. Google's
    /// clients (google-api-python-client's `_process_response`, the Java `MediaHttpUploader`) send the next
    /// chunk there; so does this, and the checkpoint after the part keeps it for a resume.
    static func movedSession(_ resp: AuthorizedHTTP.Reply, from uri: String) -> String? {
        guard resp.status == 308, let l = resp.headers.first(name: "Location"), !l.isEmpty,
            let moved = URL(string: l, relativeTo: URL(string: uri))?.absoluteString, moved != uri
        else { return nil }
        return moved
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
