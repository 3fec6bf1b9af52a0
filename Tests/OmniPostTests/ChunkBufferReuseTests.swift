import Foundation
import NIOCore
import OmniPostCore
@testable import OmniPostPlatforms
import Testing

/// The chunk loop reads a part into the buffer of the part confirmed before it (`BufferShelf`): in
/// place when nothing else holds that buffer, and never over bytes something still holds (the HTTP
/// client writing them, a resend keeping them) — nor waiting for them: a fresh buffer at once.
@Suite struct ChunkBufferReuseTests {
    static let part = 256 * 1024

    /// A real file of three parts, each byte telling which part and where it is.
    func file(_ dir: TempDir) throws -> (path: String, bytes: [UInt8]) {
        let bytes = (0..<(3 * Self.part)).map { UInt8(truncatingIfNeeded: $0 / Self.part * 101 + $0 % 251) }
        let path = dir.url.appendingPathComponent("clip.mp4").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (path, bytes)
    }

    /// That file, read through a pinned reader (no digest) with an empty shelf.
    func rig(_ dir: TempDir) throws -> (bytes: [UInt8], reader: PinnedReader, shelf: BufferShelf) {
        let (path, all) = try file(dir)
        return (all, PinnedReader(path: path, size: Int64(all.count), expected: nil), BufferShelf())
    }

    func part(_ i: Int) -> Part { Part(index: i, offset: Int64(i * Self.part), length: Int64(Self.part)) }
    func address(_ b: ByteBuffer) -> Int { b.withUnsafeReadableBytes { Int(bitPattern: $0.baseAddress) } }
    func bytes(_ b: ByteBuffer) -> [UInt8] { b.getBytes(at: b.readerIndex, length: b.readableBytes) ?? [] }

    @Test func aConfirmedPartsBufferIsReadIntoInPlace() throws {
        let dir = try TempDir()
        let (all, reader, shelf) = try rig(dir)
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
        let (all, reader, shelf) = try rig(dir)
        let (_, first) = try ChunkLoop.read(reader, part(0), [], reusing: shelf)
        // Something (the client still writing it) holds the first part's bytes while the next is read.
        let held = first
        shelf.put(first)
        let (_, second) = try ChunkLoop.read(reader, part(1), [], reusing: shelf)
        #expect(bytes(held) == Array(all[0..<Self.part]))
        #expect(bytes(second) == Array(all[Self.part..<(2 * Self.part)]))
        #expect(address(second) != address(held))
        // The shelf let go of the held buffer rather than keeping it beside the fresh one: its storage
        // goes when its holder drops it.
        #expect(shelf.takeEmptied() == nil)
    }

    /// What the HTTP client does with a body: holds it a moment after the answer, lets go on its own thread.
    final class Holder: @unchecked Sendable {
        private let lock = NSLock()
        private var held: ByteBuffer?
        init(_ b: ByteBuffer) { held = b }
        func letGo() { lock.withLock { held = nil } }
    }

    /// The read-ahead waits (suspended) for the client to let go of the kept buffer, then reads into it in
    /// place: no fresh 8 MiB mapping because the client was a moment late.
    @Test func theReadAheadWaitsForTheClientToLetGoAndReadsInPlace() async throws {
        let dir = try TempDir()
        let (all, reader, shelf) = try rig(dir)
        var (_, first) = try ChunkLoop.read(reader, part(0), [], reusing: shelf)
        let at = address(first)
        let client = Holder(first)
        shelf.put(first)
        first = ByteBuffer()
        let letGo = Task.detached {
            try await Task.sleep(for: .milliseconds(5))
            client.letGo()
        }
        await shelf.waitUntilFree(upTo: .seconds(30))
        let (_, second) = try ChunkLoop.read(reader, part(1), [], reusing: shelf)
        #expect(bytes(second) == Array(all[Self.part..<(2 * Self.part)]))
        #expect(address(second) == at, "the second part went into a fresh buffer, not the first part's, which the client let go of")
        try await letGo.value
    }

    /// A client that holds the body past the wait: the wait ends, and the read takes a fresh buffer,
    /// leaving the held bytes alone.
    @Test func aBufferHeldPastTheWaitIsLeftAlone() async throws {
        let dir = try TempDir()
        let (all, reader, shelf) = try rig(dir)
        let (_, first) = try ChunkLoop.read(reader, part(0), [], reusing: shelf)
        let held = first
        shelf.put(first)
        await shelf.waitUntilFree(upTo: .milliseconds(5))
        let (_, second) = try ChunkLoop.read(reader, part(1), [], reusing: shelf)
        #expect(bytes(held) == Array(all[0..<Self.part]))
        #expect(bytes(second) == Array(all[Self.part..<(2 * Self.part)]))
        #expect(address(second) != address(held))
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
