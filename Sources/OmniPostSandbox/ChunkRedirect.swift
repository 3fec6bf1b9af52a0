import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The `redirect_chunks` fault, one answer for every upload route that takes it (a tus PATCH, a TikTok
/// chunk PUT, Bluesky's `uploadVideo`, Reddit's media host POST): `307 Temporary Redirect` to the next
/// `Location` queued, answered before the body is read — a load balancer moving an upload elsewhere. A
/// client that follows it sends the upload's bytes (and credentials) there; OmniPost must not.
enum ChunkRedirect {
    /// The redirect for this request, if one is queued (`SandboxState.Faults.redirectChunks`).
    static func next(_ state: SandboxState) async -> Response? {
        guard let to = await state.takeChunkRedirect() else { return nil }
        return Response(status: .temporaryRedirect, headers: [.location: to], body: .init(byteBuffer: ByteBuffer(string: "moved for now")))
    }
}
