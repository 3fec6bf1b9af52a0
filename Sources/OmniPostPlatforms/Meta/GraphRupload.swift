import Foundation
import NIOCore

/// A session whose bytes go to Meta's resumable upload host (rupload.facebook.com).
package protocol RuploadSession: PersistedSession {
    /// The upload's path on the host (`/ig-api-upload/{v}/{container}`, `/{v}/{upload session}`).
    var ruploadPath: String { get }
    /// A Page's token to send the bytes with, instead of the account's own.
    var ruploadToken: String? { get }
}

/// Meta's rupload transport: the file from an offset, a chunk per request (`offset`, `file_size`, raw
/// body). The host takes a body at any offset up to what it holds, so a cut chunk is sent again from
/// where the host says it stands when it can tell (`held`), else from the same offset.
package struct GraphRupload<S: RuploadSession>: UploadProtocol {
    let graph: GraphAPI
    let chunkSize: Int64
    /// What the host holds of the upload, where it can be asked; nil: it cannot tell.
    var held: @Sendable (S) async -> Int64? = { _ in nil }

    package func nextPart(of s: S, confirmed: Int64, size: Int64) -> Part? {
        guard confirmed < size else { return nil }
        return Part(index: Int(confirmed / chunkSize), offset: confirmed, length: min(chunkSize, size - confirmed))
    }

    package func send(_ part: Part, _ bytes: ByteBuffer, session s: inout S, job: UploadJob) async throws -> PartReply {
        let r = try await graph.rupload(s.ruploadPath, offset: part.offset, fileSize: job.size, bytes, as: s.ruploadToken)
        guard r.status == 200 else { throw graph.ruploadError(r, during: "sending bytes \(part.offset)–\(part.end - 1)") }
        return .confirmed(part.end)
    }

    package func standing(of s: S, job: UploadJob) async throws -> PartReply {
        guard let h = await held(s) else { return .resend }
        return .confirmed(min(h, job.size))
    }
}
