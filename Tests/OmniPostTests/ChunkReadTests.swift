import Crypto
import Foundation
import NIOCore
import OmniPostCore
@testable import OmniPostPlatforms
import Testing

/// What the chunk loop's read makes of a part: the part's bytes read and hashed block by block
/// (`PinnedReader.block`) in one pass — the whole file's sha256 and the part's own digests from the
/// same blocks — and, where the transport frames its body (X's multipart form), the form's head and
/// tail around the part in the one buffer the request sends.
@Suite struct ChunkReadTests {
    /// More than two of the reader's blocks, and not a whole number of them.
    static let part = 2 * PinnedReader.block + 12_345

    func file(_ dir: TempDir, parts: Int = 3) throws -> (path: String, bytes: [UInt8]) {
        let bytes = (0..<(parts * Self.part)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        let path = dir.url.appendingPathComponent("clip.mp4").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (path, bytes)
    }

    func part(_ i: Int) -> Part { Part(index: i, offset: Int64(i * Self.part), length: Int64(Self.part)) }
    func bytes(_ b: ByteBuffer) -> [UInt8] { b.getBytes(at: b.readerIndex, length: b.readableBytes) ?? [] }

    @Test func aPartsDigestsAreOfItsOwnBytesReadInBlocks() throws {
        let dir = try TempDir()
        let (path, all) = try file(dir)
        let reader = PinnedReader(path: path, size: Int64(all.count), expected: FileDigest(.xxh3_128, try FileHashing.digests(path: path).xxh3))
        for i in 0..<3 {
            let (p, b) = try ChunkLoop.read(reader, part(i), [.sha256, .sha1])
            let own = Array(all[(i * Self.part)..<((i + 1) * Self.part)])
            #expect(bytes(b) == own)
            #expect(p.digests.sha256 == Array(SHA256.hash(data: own)))
            #expect(p.digests.sha1 == Array(Insecure.SHA1.hash(data: own)))
        }
    }

    /// X's APPEND body as the sandbox (and X) parse it: the form's fields, the segment between its head
    /// and tail, read into one buffer; the digests and the file check see the segment alone.
    @Test func aFramedPartIsTheWholeFormInOneBufferAroundItsBytes() throws {
        let dir = try TempDir()
        let (path, all) = try file(dir)
        let reader = PinnedReader(path: path, size: Int64(all.count), expected: FileDigest(.xxh3_128, try FileHashing.digests(path: path).xxh3))
        let frame = MultipartForm.frame(
            boundary: "b0undary", fields: [("segment_index", "1")], file: "media", filename: "segment-1", contentType: "application/octet-stream")
        _ = try ChunkLoop.read(reader, part(0), [])
        let (p, body) = try ChunkLoop.read(reader, part(1), [.sha256], framed: frame)
        let own = Array(all[Self.part..<(2 * Self.part)])
        var form = MultipartForm(boundary: "b0undary")
        form.field("segment_index", "1")
        form.file("media", filename: "segment-1", contentType: "application/octet-stream", ByteBuffer(bytes: own))
        #expect(bytes(body) == bytes(form.body))
        #expect(p.digests.sha256 == Array(SHA256.hash(data: own)))
        // The file's own check still adds up over the framed part: the last one is handed out.
        let (_, last) = try ChunkLoop.read(reader, part(2), [], framed: frame)
        #expect(bytes(last) == frame.head + Array(all[(2 * Self.part)...]) + frame.tail)
    }

    /// A part the file ended inside has fed the reader's hash some of its blocks: once the file is
    /// whole again, the part read again and the last one still check out (and a file that stays
    /// changed is still refused).
    @Test func aPartCutShortDoesNotSpoilTheFileCheck() throws {
        let dir = try TempDir()
        let (path, all) = try file(dir)
        let reader = PinnedReader(path: path, size: Int64(all.count), expected: FileDigest(.xxh3_128, try FileHashing.digests(path: path).xxh3))
        _ = try ChunkLoop.read(reader, part(0), [])
        // Cut inside the second part's second block, then put back.
        try Data(all[0..<(Self.part + PinnedReader.block + 100)]).write(to: URL(fileURLWithPath: path))
        let e = try #require(throws: DeliveryError.self) { _ = try ChunkLoop.read(reader, part(1), []) }
        #expect(e.code == .sourceChanged)
        try Data(all).write(to: URL(fileURLWithPath: path))
        _ = try ChunkLoop.read(reader, part(1), [])
        let (_, last) = try ChunkLoop.read(reader, part(2), [])
        #expect(bytes(last) == Array(all[(2 * Self.part)...]))
    }
}
