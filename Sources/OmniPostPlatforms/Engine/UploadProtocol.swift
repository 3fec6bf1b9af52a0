import Foundation
import NIOCore

/// One part of the file as a transport sends it: a byte range, and its place among the parts.
package struct Part: Sendable, Equatable {
    /// Zero-based: X's `segment_index`, TikTok's chunk number, a LinkedIn instruction's position.
    package var index: Int
    package var offset: Int64
    package var length: Int64
    package var end: Int64 { offset + length }
    /// The digests of its bytes the transport asked for (`partDigests`), filled in by the chunk loop
    /// where it read them; not part of which part this is.
    package var digests = PartDigest()

    package init(index: Int, offset: Int64, length: Int64) {
        self.index = index
        self.offset = offset
        self.length = length
    }

    package static func == (a: Part, b: Part) -> Bool { a.index == b.index && a.offset == b.offset && a.length == b.length }
}

/// Digests a part's request carries beside its bytes: S3's signed payload sha256 (plain HTTP) or its
/// `x-amz-checksum-crc32c` (HTTPS), tus's `Upload-Checksum`.
package struct PartDigests: OptionSet, Sendable {
    package let rawValue: Int
    package init(rawValue: Int) { self.rawValue = rawValue }
    package static let sha256 = PartDigests(rawValue: 1)
    package static let sha1 = PartDigests(rawValue: 2)
    package static let crc32c = PartDigests(rawValue: 4)
}

/// A part's digests, where the chunk loop worked them out (nil: not asked for).
package struct PartDigest: Sendable {
    package var sha256: [UInt8]?
    package var sha1: [UInt8]?
    package var crc32c: UInt32?
    package init() {}
}

/// Bytes a part's request body carries around the part itself: a multipart form's fields and file
/// header before it, its closing delimiter after (X's APPEND). The chunk loop reads the part between
/// them, into one buffer, so the part is never copied into a body of its own.
package struct PartFrame: Sendable, Equatable {
    package var head: [UInt8]
    package var tail: [UInt8]
    package init(head: [UInt8], tail: [UInt8]) {
        self.head = head
        self.tail = tail
    }
}

/// What the platform said after a part (or, after a cut part, when asked where the upload stands).
package enum PartReply: Sendable, Equatable {
    /// It holds the file's bytes up to here (YouTube's `Range`, TikTok's `uploaded_bytes`, a part's ETag).
    case confirmed(Int64)
    /// The last part made the remote object, and this is its id (YouTube's video).
    case complete(String)
    /// Ask nothing, send the same part again: the protocol keeps parts by index or URL, and a repeat
    /// replaces whatever half of it arrived (X's segments, LinkedIn's and S3's numbered parts).
    case resend
}

/// The platform no longer takes this upload session (its URL expired, its id is unknown) before it
/// became a post: no post can come of it, so the engine opens a fresh one — once per attempt.
package struct SessionGone: Error, Sendable {
    package var why: String
    package init(_ why: String) { self.why = why }
}

/// How a chunked transport moves bytes: byte-range PUTs (YouTube, TikTok), indexed segments (X),
/// numbered parts with ETags (LinkedIn), offset PATCHes (tus). An adapter describes its transport with
/// these three verbs; the engine's chunk loop (`ChunkLoop`) does the reading, hashing, checkpointing and
/// the re-send of a cut part.
package protocol UploadProtocol: Sendable {
    associatedtype Session: PersistedSession

    /// The part to send next when the platform holds `confirmed` bytes; nil when nothing is left.
    func nextPart(of session: Session, confirmed: Int64, size: Int64) -> Part?

    /// The part that follows `part` once the platform has confirmed it — what the chunk loop reads (and
    /// hashes) while `part` travels. The default asks `nextPart` from `part`'s end; a transport that names
    /// its next part from the session rather than an offset says it here (LinkedIn: the next
    /// instruction without an ETag).
    func partAfter(_ part: Part, of session: Session, size: Int64) -> Part?

    /// Sends one part. Throws `SessionGone` when the platform refuses the session itself, a classified
    /// `DeliveryError` for anything else. May record what the platform returned in `session` (an ETag).
    func send(_ part: Part, _ bytes: ByteBuffer, session: inout Session, job: UploadJob) async throws -> PartReply

    /// After a cut part: where the upload stands, as the platform says (YouTube's `bytes */T`, TikTok's
    /// `uploaded_bytes`). The default, `.resend`, is for protocols that take the same part again.
    func standing(of session: Session, job: UploadJob) async throws -> PartReply

    /// Whether the last part itself makes the remote object (YouTube, TikTok, tus), or a later request
    /// assembles it from parts held (X's FINALIZE, LinkedIn's finalizeUpload, S3's complete). In the
    /// second case, when a resumed attempt did not read the last part itself, the chunk loop checks the
    /// whole file against its recorded sha256 before the object is made.
    var lastPartCompletes: Bool { get }

    /// Whether the one part is the whole file, streamed from disk by `send` itself (Bluesky's video
    /// service takes a file in one request): the chunk loop then hands `send` no bytes, and the
    /// transport pins the file (`PinnedFile`: the file that was taken, its sha256 checked) and streams
    /// it — a rendition is never held in memory whole. Default false.
    var streamsWholeFile: Bool { get }

    /// The digests a part's request carries (S3's payload sha256, tus's sha1 checksum). The chunk loop
    /// works them out where it reads the part — while the part before it travels — and hands them over
    /// in `Part.digests`, so no request waits for a hash of its own body. Default none.
    func partDigests(for session: Session) -> PartDigests

    /// The body around a part (`PartFrame`), where the request's body is more than the part's bytes.
    /// The chunk loop then hands `send` the whole body — head, part, tail — in one buffer read from
    /// disk once; `part.digests` are still the part's own. Default nil: the body is the part.
    func frame(of part: Part, session: Session, job: UploadJob) -> PartFrame?
}

extension UploadProtocol {
    package func standing(of session: Session, job: UploadJob) async throws -> PartReply { .resend }
    package var lastPartCompletes: Bool { true }
    package var streamsWholeFile: Bool { false }
    package func partDigests(for session: Session) -> PartDigests { [] }
    package func frame(of part: Part, session: Session, job: UploadJob) -> PartFrame? { nil }
    package func partAfter(_ part: Part, of session: Session, size: Int64) -> Part? {
        nextPart(of: session, confirmed: part.end, size: size).flatMap { $0.offset == part.end ? $0 : nil }
    }
}

/// A session whose parts are all one size but the last (Douyin's, Bilibili's, Kuaishou's numbered parts).
package protocol FixedPartSession: PersistedSession {
    var partSize: Int64 { get }
}

extension UploadProtocol where Session: FixedPartSession {
    /// The part after what the platform holds: its index is how many whole parts came before it.
    package func nextPart(of s: Session, confirmed: Int64, size: Int64) -> Part? {
        guard confirmed < size else { return nil }
        return Part(index: Int(confirmed / s.partSize), offset: confirmed, length: min(s.partSize, size - confirmed))
    }
}
