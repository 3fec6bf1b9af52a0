import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat

/// A session whose bytes go by tus to one upload URL (the `tus:` target's own, Vimeo's upload link).
protocol TusUploadSession: PersistedSession {
    var uploadURL: String { get }
    /// The checksum algorithm the server offers (`OPTIONS`), asked again by each attempt, never persisted.
    var checksum: String? { get }
}

/// The tus transport, shared by every platform that speaks it: `PATCH` from the offset the server holds,
/// chunk by chunk, each checkpointed at the offset the server answers. A cut chunk or a 409 is settled by
/// `HEAD` — the upload goes on from the server's offset, never from where the client thought it was; an
/// upload the server no longer knows (404/410) is `SessionGone`: a new one is created.
struct TusOffsets<S: TusUploadSession>: UploadProtocol {
    let client: TusClient
    let chunkSize: Int64

    init(client: TusClient, chunkSize: Int64) {
        self.client = client
        self.chunkSize = max(1 << 20, min(chunkSize, 128 << 20))
    }

    func nextPart(of s: S, confirmed: Int64, size: Int64) -> Part? {
        guard confirmed < size else { return nil }
        return Part(index: Int(confirmed / chunkSize), offset: confirmed, length: min(chunkSize, size - confirmed))
    }

    /// A server that offers sha1 checksums gets one per PATCH, worked out by the chunk loop while the part
    /// before it travels.
    func partDigests(for session: S) -> PartDigests { session.checksum == "sha1" ? .sha1 : [] }

    func send(_ part: Part, _ bytes: ByteBuffer, session s: inout S, job: UploadJob) async throws -> PartReply {
        var checksum: String? = nil
        if s.checksum == "sha1" {
            let sha1 = part.digests.sha1 ?? bytes.withUnsafeReadableBytes { Array(Insecure.SHA1.hash(data: $0)) }
            checksum = "sha1 " + Data(sha1).base64EncodedString()
        }
        switch try await client.patch(s.uploadURL, offset: part.offset, bytes: bytes, checksum: checksum) {
        case .accepted(let next):
            guard next > part.offset, next <= job.size else {
                throw DeliveryError(.retryNow, .platformError, "the tus server answered offset \(next) for bytes sent from \(part.offset)")
            }
            return .confirmed(next)
        case .conflict:
            // 409: the server holds another offset than ours — asked with HEAD.
            return .resend
        case .gone:
            throw SessionGone("the tus server no longer knows \(s.uploadURL) (expired or removed)")
        }
    }

    func standing(of s: S, job: UploadJob) async throws -> PartReply {
        guard let held = try await client.offset(s.uploadURL) else {
            throw SessionGone("the tus server no longer knows \(s.uploadURL) (expired or removed)")
        }
        return .confirmed(held.offset)
    }
}
