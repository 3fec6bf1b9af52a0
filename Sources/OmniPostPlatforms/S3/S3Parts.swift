import Foundation
import NIOCore
import NIOFoundationCompat
import OmniPostCore
import OmniPostWire

/// S3's multipart transport: numbered parts of the session's size, each answered with its ETag. A part
/// is its number, so a cut one is sent again (`.resend`) and replaces whatever arrived; a resumed upload
/// sends only the parts S3 does not hold whole. The object is made by complete, not by the last part.
struct S3Parts: UploadProtocol {
    let bucket: S3Bucket

    var lastPartCompletes: Bool { false }

    func nextPart(of s: S3Adapter.Session, confirmed: Int64, size: Int64) -> Part? {
        missing(s, size: size, from: 1)
    }

    /// The part after this one that S3 does not hold whole: read (and hashed) while this one travels.
    /// `nextPart` names parts by what S3 holds, not by an offset, so until this part is confirmed it
    /// names this part again — the default (`nextPart` from this part's end) found nothing to read ahead,
    /// and each part was read, hashed twice and page-faulted into a fresh buffer only after the one
    /// before it was answered.
    func partAfter(_ part: Part, of s: S3Adapter.Session, size: Int64) -> Part? {
        missing(s, size: size, from: part.index + 2)
    }

    /// The first part numbered `from` or later that S3 does not hold whole.
    func missing(_ s: S3Adapter.Session, size: Int64, from first: Int) -> Part? {
        let count = Int(max(1, (size + s.partSize - 1) / s.partSize))
        guard first <= count else { return nil }
        let held = Dictionary((s.parts ?? []).map { ($0.number, $0.size) }, uniquingKeysWith: { _, last in last })
        for n in first...count {
            let from = Int64(n - 1) * s.partSize
            let length = min(s.partSize, size - from)
            if held[n] != length { return Part(index: n - 1, offset: from, length: length) }
        }
        return nil
    }

    /// What vouches for each part: its CRC-32C where the upload was created with that algorithm (S3 then
    /// asks it of every part), its sha256 signed wherever this bucket signs payloads (plain HTTP, or part
    /// checksums turned off) — both for an upload begun over HTTPS and resumed where payloads are signed,
    /// as botocore signs every payload over plain HTTP whatever the upload's algorithm. Worked out by the
    /// chunk loop while the part before it travels.
    func partDigests(for session: S3Adapter.Session) -> PartDigests {
        let crc = session.checksum == S3Bucket.partChecksum
        var d: PartDigests = crc ? .crc32c : []
        if bucket.signsPayload || !crc { d.insert(.sha256) }
        return d
    }

    func send(_ part: Part, _ bytes: ByteBuffer, session s: inout S3Adapter.Session, job: UploadJob) async throws -> PartReply {
        let n = part.index + 1
        let v: UInt32? =
            s.checksum == S3Bucket.partChecksum
            ? part.digests.crc32c ?? bytes.withUnsafeReadableBytes(CRC32C.checksum) : nil
        let digest: S3Bucket.PartDigestHeader
        if let v, !bucket.signsPayload {
            digest = .crc32c(v)
        } else {
            let sha = part.digests.sha256.map { $0.hex } ?? bytes.withUnsafeReadableBytes { FileHashing.sha256(data: Data($0)) }
            digest = .signedSHA256(sha, crc32c: v)
        }
        let etag = try await bucket.uploadPart(s.key, uploadId: s.uploadId, number: n, bytes: bytes, digest: digest)
        let crc = v.map(CRC32C.base64)
        s.parts = (s.parts ?? []).filter { $0.number != n } + [S3Bucket.Part(number: n, etag: etag, size: part.length, crc32c: crc)]
        return .confirmed(S3Adapter.confirmed(s.held, partSize: s.partSize, size: job.size))
    }
}
