import Foundation
import NIOCore
import OmniPostCore
@testable import OmniPostPlatforms
import Testing

/// Whole-file reads go through `FileBlocks`: a block per `pread`, in order, through one buffer — the
/// digests taken at intake, the archive's copy, a body streamed from disk. Each read here is checked for
/// the bytes it hands on, where it starts and stops, and what a failed read says.
@Suite struct FileBlocksTests {
    /// Three blocks and a bit: every read but the last is a whole block.
    static let size = 3 * FileBlocks.size + 54_321

    static func bytes(_ n: Int = size) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 11) } }

    func write(_ dir: TempDir, _ bytes: [UInt8], as name: String = "clip.mp4") throws -> String {
        let path = dir.file(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func everyBlockIsWholeButTheLastAndInOrder() throws {
        let dir = try TempDir()
        let all = Self.bytes()
        let fd = open(try write(dir, all), O_RDONLY)
        defer { close(fd) }
        var seen: [Int] = [], got: [UInt8] = []
        let total = try FileBlocks.forEach(fd, failed: FileBlocks.unreadable("clip.mp4")) { block in
            seen.append(block.count)
            got += block
        }
        #expect(seen == [FileBlocks.size, FileBlocks.size, FileBlocks.size, 54_321])
        #expect(total == Int64(Self.size) && got == all)
        // The descriptor's own offset is left where it was: a later plain read starts at 0.
        #expect(lseek(fd, 0, SEEK_CUR) == 0)
    }

    @Test func aReadFromAnOffsetStopsAtTheLengthAsked() throws {
        let dir = try TempDir()
        let all = Self.bytes()
        let fd = open(try write(dir, all), O_RDONLY)
        defer { close(fd) }
        var got: [UInt8] = []
        let from = 12_345, length = FileBlocks.size + 777
        let total = try FileBlocks.forEach(fd, from: Int64(from), length: Int64(length), failed: FileBlocks.unreadable("clip.mp4")) { got += $0 }
        #expect(total == Int64(length) && got == Array(all[from..<(from + length)]))
        // A length past the end: what there is, no more.
        var tail = 0
        #expect(try FileBlocks.forEach(fd, from: Int64(Self.size - 10), length: 1 << 30, failed: FileBlocks.unreadable("clip.mp4")) { tail += $0.count } == 10)
        #expect(tail == 10)
        // `fill` into memory the caller owns: short only where the file ends.
        var buffer = [UInt8](repeating: 0, count: 100)
        let n = try buffer.withUnsafeMutableBytes { try FileBlocks.fill(fd, at: Int64(Self.size - 40), into: $0, failed: FileBlocks.unreadable("clip.mp4")) }
        #expect(n == 40 && Array(buffer[0..<40]) == Array(all[(Self.size - 40)...]))
    }

    @Test func aFailedReadSaysWhichFileAndWhy() throws {
        let dir = try TempDir()
        // A folder opens for reading, and every read of it fails (EISDIR).
        let fd = open(dir.url.path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        #expect(fd >= 0)
        do {
            try FileBlocks.forEach(fd, failed: FileBlocks.unreadable("clip.mp4")) { _ in Issue.record("a folder handed out bytes") }
            Issue.record("reading a folder did not fail")
        } catch let e as OmniError {
            #expect(e.code == .unreadable)
            #expect(e.message == "clip.mp4 cannot be read (Is a directory)")
        }
    }

    /// The digests taken at intake and S3's MD5 read the file through `FileBlocks` and match the tools a
    /// person would check them with.
    @Test func theDigestsMatchTheCommandLineTools() throws {
        let dir = try TempDir()
        let path = try write(dir, Self.bytes())
        func tool(_ args: String...) throws -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = args + [path]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
        }
        let d = try FileHashing.digests(path: path)
        #expect(d.bytes == Int64(Self.size))
        #expect(d.hex == (try tool("sha256sum")))
        #expect(d.xxh3 == (try tool("xxhsum", "-H2")))
        #expect(try FileHashing.md5(path: path) == (try tool("md5sum")))
    }

    /// A body streamed from disk: the head, the file's bytes and the tail, the file in blocks of at most
    /// `FileBlocks.size` — by name, or through a pinned file's descriptor.
    @Test func aStreamedBodyIsTheHeadTheFileAndTheTail() async throws {
        let dir = try TempDir()
        let all = Self.bytes()
        let path = try write(dir, all)
        let head = Data("--form\r\n".utf8), tail = Data("\r\n--form--\r\n".utf8)
        func collect(_ s: AsyncThrowingStream<ByteBuffer, any Error>) async throws -> (bytes: [UInt8], largest: Int) {
            var bytes: [UInt8] = [], largest = 0
            for try await b in s {
                bytes += b.readableBytesView
                largest = max(largest, b.readableBytes)
            }
            return (bytes, largest)
        }
        let byName = try await collect(FileStream.body(head: head, file: path, tail: tail))
        #expect(byName.bytes == Array(head) + all + Array(tail))
        #expect(byName.largest == FileBlocks.size)
        let pinned = try PinnedFile(path: path, size: Int64(all.count), expected: nil)
        #expect(try await collect(FileStream.body(head: head, pinned: pinned, tail: tail)).bytes == Array(head) + all + Array(tail))
    }

    /// A pinned file cut short after it was taken fails the body `source_changed`: the request never
    /// carries fewer bytes than it announced.
    @Test func aPinnedFileCutShortFailsTheBody() async throws {
        let dir = try TempDir()
        let all = Self.bytes()
        let path = try write(dir, all)
        let pinned = try PinnedFile(path: path, size: Int64(all.count), expected: nil)
        #expect(truncate(path, off_t(FileBlocks.size + 10)) == 0)
        var got = 0
        do {
            for try await b in FileStream.body(pinned: pinned) { got += b.readableBytes }
            Issue.record("a short file's body ended without an error")
        } catch let e as OmniError {
            #expect(e.code == .sourceChanged)
        }
        #expect(got == FileBlocks.size)
    }
}
