import Foundation
import NIOCore
import OmniPostCore
@testable import OmniPostPlatforms
import Testing

/// The chunk loop reads a part into the buffer of a part confirmed before it (`BufferShelf`): in place
/// when nothing else holds that buffer, and never over bytes something still holds (the HTTP client
/// writing them, a resend keeping them) — nor waiting for them: an older kept buffer the client has let
/// go of, else a fresh one at once; a buffer still held stays kept for the read after next.
@Suite struct ChunkBufferReuseTests {
    static let part = 256 * 1024

    /// A real file of three parts, each byte telling which part and where it is.
    func file(_ dir: TempDir) throws -> (path: String, bytes: [UInt8]) {
        let bytes = (0..<(3 * Self.part)).map { UInt8(truncatingIfNeeded: $0 / Self.part * 101 + $0 % 251) }
        let path = dir.url.appendingPathComponent("clip.mp4").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (path, bytes)
    }

    func part(_ i: Int) -> Part { Part(index: i, offset: Int64(i * Self.part), length: Int64(Self.part)) }
    func address(_ b: ByteBuffer) -> Int { b.withUnsafeReadableBytes { Int(bitPattern: $0.baseAddress) } }
    func bytes(_ b: ByteBuffer) -> [UInt8] { b.getBytes(at: b.readerIndex, length: b.readableBytes) ?? [] }

    @Test func aConfirmedPartsBufferIsReadIntoInPlace() throws {
        let dir = try TempDir()
        let (path, all) = try file(dir)
        let reader = PinnedReader(path: path, size: Int64(all.count), expected: nil)
        let shelf = BufferShelf()
        var (_, first) = try ChunkLoop.read(reader, part(0), [], reusing: shelf)
        #expect(bytes(first) == Array(all[0..<Self.part]))
        let at = address(first)
        shelf.put(first)
        first = ByteBuffer()
        let (_, second) = try ChunkLoop.read(reader, part(1), [], reusing: shelf)
        #expect(bytes(second) == Array(all[Self.part..<(2 * Self.part)]))
        #expect(address(second) == at, "the second part went into a fresh buffer, not the first part's")
    }

    @Test func aBufferStillHeldIsNeverOverwritten() throws {
        let dir = try TempDir()
        let (path, all) = try file(dir)
        let reader = PinnedReader(path: path, size: Int64(all.count), expected: nil)
        let shelf = BufferShelf()
        let (_, first) = try ChunkLoop.read(reader, part(0), [], reusing: shelf)
        // Something (the client still writing it) holds the first part's bytes while the next is read.
        let held = first
        shelf.put(first)
        let (_, second) = try ChunkLoop.read(reader, part(1), [], reusing: shelf)
        #expect(bytes(held) == Array(all[0..<Self.part]))
        #expect(bytes(second) == Array(all[Self.part..<(2 * Self.part)]))
        #expect(address(second) != address(held))
        // Still held: not handed out.
        #expect(shelf.takeEmptied() == nil)
    }

    /// The client lets go of a body a moment after its answer, often after the next read began: the buffer
    /// it held stays kept, and once let go it is read into in place — no fresh buffer (an 8 MiB one is
    /// ~2,000 page faults and the kernel zeroing it) for the read after next.
    @Test func aBufferLetGoLaterIsReadIntoByTheReadAfterNext() throws {
        let dir = try TempDir()
        let (path, all) = try file(dir)
        let reader = PinnedReader(path: path, size: Int64(all.count), expected: nil)
        let shelf = BufferShelf()
        var (_, first) = try ChunkLoop.read(reader, part(0), [], reusing: shelf)
        let firstAt = address(first)
        // The client still holds part 1's body when part 2 is read: a fresh buffer.
        var held: ByteBuffer? = first
        shelf.put(first)
        first = ByteBuffer()
        var (_, second) = try ChunkLoop.read(reader, part(1), [], reusing: shelf)
        #expect(address(second) != firstAt)
        #expect(held.map(bytes) == Array(all[0..<Self.part]))
        // Part 2 is confirmed while the client still holds its body; part 1's is let go meanwhile.
        let secondHeld = second
        shelf.put(second)
        second = ByteBuffer()
        held = nil
        let (_, third) = try ChunkLoop.read(reader, part(2), [], reusing: shelf)
        #expect(bytes(third) == Array(all[(2 * Self.part)..<(3 * Self.part)]))
        #expect(address(third) == firstAt, "part 3 went into a fresh buffer, not part 1's, which nothing held any more")
        // Part 2's bytes, still held, were not touched.
        #expect(bytes(secondHeld) == Array(all[Self.part..<(2 * Self.part)]))
    }

    /// At most `BufferShelf.kept` buffers are kept: the oldest goes first.
    @Test func theShelfKeepsAtMostTwo() throws {
        let shelf = BufferShelf()
        // Each put buffer's only other reference is this loop's, gone by the next turn.
        var addresses: [Int] = []
        for i in 0..<3 {
            var b = ByteBufferAllocator().buffer(capacity: 64)
            b.writeInteger(UInt8(i))
            addresses.append(address(b))
            shelf.put(b)
        }
        var taken: [Int] = []
        while let b = shelf.takeEmptied() { taken.append(address(b)) }
        #expect(taken == Array(addresses.suffix(BufferShelf.kept)))
    }

    /// The whole file's digest is still checked through reused buffers: a changed file is refused at its last part.
    @Test func aChangedFileIsStillRefusedThroughReusedBuffers() throws {
        let dir = try TempDir()
        let (path, all) = try file(dir)
        let sha = FileDigest(.xxh3_128, try FileHashing.digests(path: path).xxh3)
        var changed = all
        changed[Self.part + 7] ^= 0xFF
        let reader = PinnedReader(path: path, size: Int64(all.count), expected: sha)
        let shelf = BufferShelf()
        var (_, b) = try ChunkLoop.read(reader, part(0), [], reusing: shelf)
        shelf.put(b)
        b = ByteBuffer()
        try Data(changed).write(to: URL(fileURLWithPath: path))
        (_, b) = try ChunkLoop.read(reader, part(1), [], reusing: shelf)
        shelf.put(b)
        b = ByteBuffer()
        let e = try #require(throws: DeliveryError.self) { _ = try ChunkLoop.read(reader, part(2), [], reusing: shelf) }
        #expect(e.code == .sourceChanged && e.kind == .permanent, "\(e)")
    }
}
