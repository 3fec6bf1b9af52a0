import Foundation
import OmniPostCore
import OmniPostPlatforms
import Testing

/// The upload's changed-file check with the fast digest recorded beside the sha256 (XXH3-128, ledger v22),
/// and with the sha256 alone for a delivery recorded before it: a file changed after it was taken — one
/// byte, cut short, added to, two blocks swapped, another file put in its place — never has its last
/// chunk handed out.
@Suite struct PinnedDigestTests {
    /// Three of `FileBlocks`' reads and a bit: the digest is streamed across reads.
    static let size = 3 * FileBlocks.size + 54_321
    static let chunk = 1 << 20

    /// Bytes from a 64-bit LCG's top bits: no block repeats another (a swap of two must change the file).
    static func payload() -> Data {
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        return Data((0..<size).map { _ in
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: x >> 56)
        })
    }

    /// `xxhsum -H2` (Debian's xxhash package, `make test` installs it): the digest as xxHash's own tool prints it.
    static func xxhsum(_ path: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["xxhsum", "-H2", path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }

    /// The job as the upload stage makes it: the sha256 always, the XXH3-128 for a row from v22 on.
    static func job(_ path: String, recorded: (hex: String, xxh3: String, bytes: Int64), fast: Bool) -> UploadJob {
        var job = UploadJob(deliveryId: 1, filePath: path, size: recorded.bytes, metadata: PublishMetadata(title: "t", description: "", tags: [], privacy: .public, publishAt: nil, options: [:]), session: nil, confirmedOffset: 0)
        job.expectedSha256 = recorded.hex
        if fast { job.expectedDigest = FileDigest(.xxh3_128, recorded.xxh3) }
        return job
    }

    /// Every chunk in order; the first `before` chunks read before `change` runs.
    static func upload(_ reader: PinnedReader, changingAfter before: Int = 1, _ change: () throws -> Void = {}) throws {
        var offset: Int64 = 0, index = 0
        while offset < reader.size {
            if index == before { try change() }
            let n = Int(min(Int64(chunk), reader.size - offset))
            _ = try reader.chunk(from: offset, count: n)
            offset += Int64(n)
            index += 1
        }
    }

    @Test func theDigestOfAKnownInputIsXXH3128sPublishedVector() throws {
        // xxHash's test vector for the empty input (seed 0), in its canonical form.
        #expect(XXH3Hasher.hex(UnsafeRawBufferPointer(start: nil, count: 0)) == "99aa06d3014798d86001c324468d497f")
        // A streamed digest is the one-shot digest of the same bytes.
        let bytes = Self.payload()
        let streamed = XXH3Hasher()
        bytes.withUnsafeBytes { all in
            for start in stride(from: 0, to: all.count, by: 100_003) {
                streamed.update(UnsafeRawBufferPointer(rebasing: all[start..<min(all.count, start + 100_003)]))
            }
        }
        #expect(streamed.hex() == bytes.withUnsafeBytes { XXH3Hasher.hex($0) })
    }

    /// What is recorded when a file is taken: its sha256 and its XXH3-128 from one read, each what an
    /// independent tool computes over the file.
    @Test func theDigestsTakenInOneReadAreSha256sumsAndXxhsums() throws {
        let dir = try TempDir()
        let f = dir.file("clip.mp4")
        let bytes = Self.payload()
        try bytes.write(to: f)
        let d = try FileHashing.digests(path: f.path)
        #expect(d.bytes == Int64(Self.size))
        #expect(d.hex == FileHashing.sha256(data: bytes))
        #expect(d.xxh3 == (try Self.xxhsum(f.path)) && d.xxh3.count == 32)
        // An empty file, through the same path: the published vector.
        let empty = dir.file("empty")
        try Data().write(to: empty)
        #expect(try FileHashing.digests(path: empty.path).xxh3 == "99aa06d3014798d86001c324468d497f")
    }

    /// The check the job names: its fast digest when it has one, its sha256 for a row from before v22.
    @Test func theJobChecksWithTheFastDigestAndFallsBackToSha256() throws {
        let dir = try TempDir()
        let f = dir.file("clip.mp4")
        try Self.payload().write(to: f)
        let d = try FileHashing.digests(path: f.path)
        #expect(Self.job(f.path, recorded: d, fast: true).changeCheck == FileDigest(.xxh3_128, d.xxh3))
        #expect(Self.job(f.path, recorded: d, fast: false).changeCheck == FileDigest(.sha256, d.hex))
        var none = Self.job(f.path, recorded: d, fast: false)
        none.expectedSha256 = nil
        #expect(none.changeCheck == nil)
    }

    enum Change: String, CaseIterable, CustomTestStringConvertible {
        case oneByte, truncated, extended, blocksSwapped, fileSwapped
        var testDescription: String { rawValue }
    }

    /// Changed after it was taken, while its first chunk was out: the last chunk is refused
    /// (`source_changed`), with the fast digest and with sha256 alone.
    /// A file grown after it was taken, with no digest recorded to compare (a delivery whose file has
    /// none): the length alone refuses its last chunk. And a whole-file hand-on (`PinnedFile`) checks the
    /// recorded fast digest, not only the sha256.
    @Test func aGrownFileIsRefusedWithoutADigestAndAPinnedFileChecksTheFastOne() throws {
        let dir = try TempDir()
        let f = dir.file("clip.mp4")
        let bytes = Self.payload()
        try bytes.write(to: f)
        let reader = PinnedReader(path: f.path, size: Int64(bytes.count), expected: nil)
        let e = #expect(throws: OmniError.self) {
            try Self.upload(reader) {
                let h = try FileHandle(forWritingTo: f)
                try h.seekToEnd()
                try h.write(contentsOf: Data([0]))
                try h.close()
            }
        }
        #expect(e?.code == .sourceChanged && e?.message.contains("not the \(bytes.count) taken") == true)

        let g = dir.file("hand-on.mp4")
        try bytes.write(to: g)
        let recorded = try FileHashing.digests(path: g.path)
        _ = try PinnedFile(path: g.path, size: Int64(bytes.count), expected: FileDigest(.xxh3_128, recorded.xxh3))
        var changed = bytes
        changed[7] ^= 0x01
        try changed.write(to: g)
        let refused = #expect(throws: OmniError.self) {
            _ = try PinnedFile(path: g.path, size: Int64(bytes.count), expected: FileDigest(.xxh3_128, recorded.xxh3))
        }
        #expect(refused?.code == .sourceChanged && refused?.message.contains("xxh3-128") == true)
    }

    @Test(arguments: Change.allCases, [true, false])
    func aFileChangedAfterItWasTakenIsRefusedBeforeItsLastChunk(_ change: Change, fast: Bool) throws {
        let dir = try TempDir()
        let f = dir.file("clip.mp4")
        let bytes = Self.payload()
        try bytes.write(to: f)
        let recorded = try FileHashing.digests(path: f.path)
        let job = Self.job(f.path, recorded: recorded, fast: fast)
        // Unchanged: every chunk, the last one included, is handed out.
        try Self.upload(PinnedReader(path: f.path, size: job.size, expected: job.changeCheck))

        if change == .fileSwapped {
            var other = bytes
            other[0] ^= 0x80
            try other.write(to: dir.file("other.mp4"))
            // Another file renamed over the name once the reader had opened the one taken: it keeps reading
            // that one, so the taken bytes go out whole.
            let opened = PinnedReader(path: f.path, size: job.size, expected: job.changeCheck)
            try Self.upload(opened) { #expect(rename(dir.file("other.mp4").path, f.path) == 0) }
            // Renamed over it before an upload began: refused by its bytes.
            let fresh = PinnedReader(path: f.path, size: job.size, expected: job.changeCheck)
            let swapped = #expect(throws: OmniError.self) { try Self.upload(fresh) }
            #expect(swapped?.code == .sourceChanged && swapped?.message.contains("nothing was posted") == true)
            return
        }
        let reader = PinnedReader(path: f.path, size: job.size, expected: job.changeCheck)
        let e = #expect(throws: OmniError.self) {
            try Self.upload(reader) {
                var changed = bytes
                switch change {
                case .oneByte:
                    changed[Self.size - 10] ^= 0x01
                case .truncated:
                    changed = changed.prefix(Self.size - 1)
                case .extended:
                    changed.append(0)
                case .blocksSwapped:
                    // Two blocks of the reader's size exchanged: every byte is still there, in another place.
                    let b = PinnedReader.block, x = Self.chunk + b, y = Self.chunk + 3 * b
                    let first = bytes[x..<(x + b)], second = bytes[y..<(y + b)]
                    changed.replaceSubrange(x..<(x + b), with: second)
                    changed.replaceSubrange(y..<(y + b), with: first)
                    #expect(changed != bytes && changed.count == bytes.count)
                case .fileSwapped:
                    break
                }
                // In place: the reader's descriptor reads the new bytes.
                let h = try FileHandle(forWritingTo: f)
                try h.truncate(atOffset: 0)
                try h.write(contentsOf: changed)
                try h.close()
            }
        }
        #expect(e?.code == .sourceChanged && e?.message.contains("nothing was posted") == true, "\(e?.message ?? "not refused")")
        if change == .oneByte || change == .blocksSwapped {
            #expect(e?.message.contains(fast ? "xxh3-128" : "sha256") == true, "\(e?.message ?? "")")
        }
    }
}
