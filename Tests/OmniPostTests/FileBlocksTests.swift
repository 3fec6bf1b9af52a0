import Foundation
import NIOCore
import OmniPostCore
@testable import OmniPostPlatforms
import Testing

/// Whole-file reads go through `FileBlocks`: a block per `pread`, in order, through one buffer. Checked
/// here: the bytes each read hands on, where it starts and stops, what a failed read says, the digests
/// against the command-line tools, a body streamed from disk, and the private copy a program is handed
/// where no hard link can be made.
@Suite struct FileBlocksTests {
    /// Three blocks and a bit: every read but the last is a whole block.
    static let size = 3 * FileBlocks.size + 54_321

    /// A 64-bit LCG's top bits: no block repeats another, so a block read from the wrong place is seen.
    static func bytes(_ n: Int = size) -> [UInt8] {
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<n).map { _ in
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: x >> 56)
        }
    }

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
            #expect(p.terminationStatus == 0, "\(args[0]) failed")
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
        func collect(_ s: FileStream) async throws -> (bytes: [UInt8], largest: Int) {
            var bytes: [UInt8] = [], largest = 0
            for try await b in s {
                bytes += b.readableBytesView
                largest = max(largest, b.readableBytes)
            }
            return (bytes, largest)
        }
        let byName = try await collect(FileStream.body(head: head, file: path, tail: tail))
        #expect(byName.bytes == Array(head) + all + Array(tail))
        #expect(byName.largest == FileStream.block)
        let pinned = try PinnedFile(path: path, size: Int64(all.count), expected: nil)
        #expect(try await collect(FileStream.body(head: head, pinned: pinned, tail: tail)).bytes == Array(head) + all + Array(tail))
    }

    /// A pinned file cut short, or added to, after it was taken fails the body `source_changed` before its
    /// last block: the request never completes with other bytes than those that were checked.
    @Test(arguments: [-(FileBlocks.size + 10), 1])
    func aPinnedFileThatChangedSizeFailsTheBodyBeforeItsEnd(change: Int) async throws {
        let dir = try TempDir()
        let all = Self.bytes()
        let path = try write(dir, all)
        let pinned = try PinnedFile(path: path, size: Int64(all.count), expected: nil)
        #expect(truncate(path, off_t(all.count + change)) == 0)
        var got = 0
        do {
            for try await b in FileStream.body(pinned: pinned) { got += b.readableBytes }
            Issue.record("a changed file's body ended without an error")
        } catch let e as OmniError {
            #expect(e.code == .sourceChanged)
        }
        #expect(got < all.count)
    }

    /// A pinned file rewritten in place at the same size while its body is sent fails the body before its
    /// last block: held to the digest it was checked against (hashed as it is read), or — adopted without
    /// one — to its mtime.
    @Test(arguments: [true, false])
    func aPinnedFileRewrittenInPlaceFailsTheBodyBeforeItsEnd(digested: Bool) async throws {
        let dir = try TempDir()
        let all = Self.bytes()
        let path = try write(dir, all)
        func pin() throws -> PinnedFile {
            if digested { return try PinnedFile(path: path, size: Int64(all.count), expected: FileDigest(.xxh3_128, try FileHashing.digests(path: path).xxh3)) }
            return try PinnedFile(adopting: open(path, O_RDONLY | O_CLOEXEC), path: path)
        }
        var whole: [UInt8] = []
        for try await b in FileStream.body(pinned: try pin()) { whole += b.readableBytesView }
        #expect(whole == all, "an unchanged file is sent whole")
        let blocks = FileStream.body(pinned: try pin()).makeAsyncIterator()
        var got = try #require(try await blocks.next()).readableBytes
        // Past the kernel's clock tick, so the rewrite's mtime is a later one; a byte of a block not yet sent.
        try await Task.sleep(for: .milliseconds(20))
        let at = 2 * FileStream.block + 9
        let h = try #require(FileHandle(forWritingAtPath: path))
        try h.seek(toOffset: UInt64(at))
        try h.write(contentsOf: Data([all[at] ^ 0xff]))
        try h.close()
        do {
            while let b = try await blocks.next() { got += b.readableBytes }
            Issue.record("a rewritten file's body ended without an error")
        } catch let e as OmniError {
            #expect(e.code == .sourceChanged, "\(e)")
        }
        #expect(got < all.count)
    }

    /// The body reads a block only when the client asks for the next one (as the socket takes them), never
    /// ahead into memory: bytes changed on disk before a block is asked for are what that block carries.
    @Test func aBodyReadsABlockOnlyWhenAskedForIt() async throws {
        let dir = try TempDir()
        let all = Self.bytes()
        let path = try write(dir, all)
        let pinned = try PinnedFile(path: path, size: Int64(all.count), expected: nil)
        let blocks = FileStream.body(pinned: pinned).makeAsyncIterator()
        #expect(try await blocks.next()?.readableBytes == FileStream.block)
        // Long after the first block was handed on, the second one's bytes change in place.
        try await Task.sleep(for: .milliseconds(100))
        let h = try #require(FileHandle(forWritingAtPath: path))
        try h.seek(toOffset: UInt64(FileStream.block))
        try h.write(contentsOf: Data(repeating: 0xAA, count: FileStream.block))
        try h.close()
        let second = try #require(try await blocks.next())
        #expect(second.readableBytesView.allSatisfy { $0 == 0xAA })
    }

    /// A body by name is of a regular file: a FIFO in its place fails at once, without blocking.
    @Test func aBodyByNameRefusesWhatIsNotARegularFile() async throws {
        let dir = try TempDir()
        let fifo = dir.file("clip.mp4").path
        #expect(mkfifo(fifo, 0o600) == 0)
        do {
            for try await _ in FileStream.body(file: fifo) { Issue.record("a FIFO handed out bytes") }
            Issue.record("a FIFO was read")
        } catch let e as OmniError {
            #expect(e.code == .notRegularFile)
        }
    }

    /// Where no hard link can be made (the file on tmpfs, the folder here on another file system), a
    /// program is handed a copy: exactly the bytes that were checked, or none — a file added to or changed
    /// in place since it was opened is refused, and no copy is left behind.
    @Test func aPrivateCopyIsTheCheckedFileOrNothing() throws {
        let dir = try TempDir()
        guard let shm = dir.elsewhere() else { return }  // one file system: no copy to test
        var b = stat()
        #expect(stat(dir.url.path, &b) == 0)
        let all = Self.bytes()
        let path = shm + "/clip.mp4"
        try Data(all).write(to: URL(fileURLWithPath: path))
        let digest = FileDigest(.xxh3_128, try FileHashing.digests(path: path).xxh3)
        let copy = try PinnedFile(path: path, size: Int64(all.count), expected: digest).privateName(in: dir.url.path, name: "clip.mp4")
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == Data(all))
        var c = stat()
        #expect(stat(copy, &c) == 0 && c.st_dev == b.st_dev, "a copy, on the folder's file system")
        PinnedFile.removePrivate(copy)
        func refused(_ change: (String) throws -> Void) throws {
            let pinned = try PinnedFile(path: path, size: Int64(all.count), expected: digest)
            try change(path)
            #expect(throws: OmniError.self) { _ = try pinned.privateName(in: dir.url.path, name: "clip.mp4") }
            let left = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { $0.hasPrefix(".omnipost-private-") }
            #expect(left.isEmpty, "no copy left behind: \(left)")
            try Data(all).write(to: URL(fileURLWithPath: path))
        }
        // Added to after it was opened.
        try refused { p in
            let h = try #require(FileHandle(forWritingAtPath: p))
            _ = try h.seekToEnd()
            try h.write(contentsOf: Data("more".utf8))
            try h.close()
        }
        // One byte changed in place, the size the same.
        try refused { p in
            let h = try #require(FileHandle(forWritingAtPath: p))
            try h.seek(toOffset: UInt64(FileBlocks.size + 5))
            try h.write(contentsOf: Data([all[FileBlocks.size + 5] ^ 0xff]))
            try h.close()
        }
    }

    /// A probe's read of one box: what is there up to the count, short where the file ends, nil where
    /// it cannot be read.
    @Test func aBoxIsReadUpToTheFilesEnd() throws {
        let dir = try TempDir()
        let path = dir.file("boxes.mp4").path
        try Data((0..<40).map { UInt8($0) }).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        #expect(FileBlocks.bytes(fd, at: 8, upTo: 16) == (8..<24).map { UInt8($0) })
        #expect(FileBlocks.bytes(fd, at: 32, upTo: 16) == (32..<40).map { UInt8($0) })
        #expect(FileBlocks.bytes(fd, at: 40, upTo: 16) == [])
        #expect(FileBlocks.bytes(fd, at: 0, upTo: 0) == [])
        #expect(FileBlocks.bytes(-1, at: 0, upTo: 16) == nil)
        #expect(FileBlocks.bytes(fd, at: UInt64.max, upTo: 16) == nil)
    }

    /// A file adopted from a descriptor its caller checked by name (a slideshow's inputs: no digest) is
    /// held to its mtime through the copy: one byte rewritten in place, the size the same, is refused.
    @Test func anAdoptedFileRewrittenInPlaceIsNotCopied() throws {
        let dir = try TempDir()
        guard let shm = dir.elsewhere() else { return }  // one file system: no copy to test
        let all = Self.bytes()
        let path = shm + "/still.png"
        try Data(all).write(to: URL(fileURLWithPath: path))
        func adopted() throws -> PinnedFile {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            #expect(fd >= 0)
            return try PinnedFile(adopting: fd, path: path)
        }
        let copy = try adopted().privateName(in: dir.url.path, name: "still.png")
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == Data(all), "an unchanged file is copied")
        PinnedFile.removePrivate(copy)
        let pinned = try adopted()
        // Past the kernel's clock tick, so the rewrite's mtime is a later one.
        usleep(20_000)
        let h = try #require(FileHandle(forWritingAtPath: path))
        try h.seek(toOffset: 7)
        try h.write(contentsOf: Data([all[7] ^ 0xff]))
        try h.close()
        #expect(throws: OmniError.self) { _ = try pinned.privateName(in: dir.url.path, name: "still.png") }
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { $0.hasPrefix(".omnipost-private-") }
        #expect(left.isEmpty, "no copy left behind: \(left)")
    }
}
