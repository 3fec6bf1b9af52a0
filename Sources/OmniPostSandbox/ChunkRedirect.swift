import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The `redirect_chunks` fault, one answer for every route that takes an upload's bytes: a tus PATCH
/// (Vimeo's upload links too), YouTube's resumable PUT (not a `bytes */T` query), a TikTok chunk PUT,
/// Douyin's `upload_video` and `upload_video_part`, Bilibili's `video/upload` and `part/upload`,
/// Kuaishou's `api/upload` (and `/multipart`) and `api/upload/fragment`, a LinkedIn part PUT, X's
/// `/2/media/upload/{id}/append` (the command form's APPEND is only known once its body is read),
/// Facebook's and Instagram's rupload, an S3 UploadPart or PutObject, Bluesky's `uploadVideo`, Reddit's
/// media host POST. The webhook's POST does not take it: it follows redirects by design (`WebhookAdapter`).
/// `307 Temporary Redirect` to the next `Location` queued, answered before the body is read — a load
/// balancer moving an upload elsewhere. A client that follows it sends the upload's bytes (and
/// credentials) there; OmniPost must not. An entry may start with another 3xx ("303 http://…"): a
/// `303`/`301`/`302` is what AsyncHTTPClient follows even for a streamed body (as a GET without it), so
/// only that shows which client a request went on.
///
/// The `redirect_starts` fault is the same answer for the request that starts an upload (every route
/// that takes `failInits`: a session, a container, a lease, tus's creation…), queued apart so a test
/// moves one kind of request and not the other: a start carries the account's token (and a title, a
/// caption) where a part carries bytes, and must not be followed either.
enum ChunkRedirect {
    /// Which requests a queue of redirects is for.
    enum Queue: Sendable {
        /// `SandboxState.Faults.redirectChunks`: a request carrying an upload's bytes.
        case chunks
        /// `SandboxState.Faults.redirectStarts`: the request that starts an upload.
        case starts
    }

    /// The redirect for this request, if one is queued on `queue`.
    static func next(_ state: SandboxState, queue: Queue = .chunks) async -> Response? {
        guard let entry = await state.takeRedirect(queue) else { return nil }
        let words = entry.split(separator: " ", maxSplits: 1)
        let code = words.count == 2 ? Int(words[0]).flatMap { (300..<400).contains($0) ? $0 : nil } : nil
        let to = code == nil ? entry : String(words[1])
        return Response(status: .init(code: code ?? 307), headers: [.location: to], body: .init(byteBuffer: ByteBuffer(string: "moved")))
    }
}
