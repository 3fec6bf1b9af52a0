import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// A file read by position, a block per `pread`, into memory the caller owns or one buffer reused for the
/// whole file; the descriptor's offset is left alone. Every read of a whole file goes through here: the
/// digests taken at intake, the archive's copy and its read-back, a private copy, a webhook's signature, a
/// body streamed from disk, the upload's parts, and a probe's read of one box (`bytes`). Why not
/// `FileHandle.read(upToCount:)`: on Linux it reads a regular file
/// `st_blksize` (4 KiB) at a time into a fresh buffer of the size asked for — 262,144 `read` calls for a
/// GiB, and a 1 MiB buffer is a fresh mapping each time (the daemon's mmap threshold, `MemoryTuning`):
/// 0.27–0.28 CPU-s a GiB against 0.07 for this (docs/performance.md, r21).
package enum FileBlocks {
    /// The block a whole-file read moves at a time into its one buffer: large enough that the calls cost
    /// nothing beside the copy (the buffer is mapped once a file, so its size is no allocation's cost).
    package static let size = 1 << 20

    /// Fills `buffer` from `offset`, short only where the file ends. `failed` makes the error for an errno.
    package static func fill(
        _ fd: Int32, at offset: Int64, into buffer: UnsafeMutableRawBufferPointer, failed: (Int32) -> any Error
    ) throws -> Int {
        var got = 0
        while got < buffer.count {
            let n = pread(fd, buffer.baseAddress! + got, buffer.count - got, off_t(offset + Int64(got)))
            if n < 0 {
                if errno == EINTR { continue }
                throw failed(errno)
            }
            if n == 0 { break }
            got += n
        }
        return got
    }

    /// Every block from `offset` to the end of the file (or `length` bytes, at most), in order, through
    /// one buffer; the bytes read. `body` must not keep the pointer.
    @discardableResult
    package static func forEach(
        _ fd: Int32, from offset: Int64 = 0, length: Int64? = nil, failed: (Int32) -> any Error, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        defer { buffer.deallocate() }
        var at: Int64 = 0
        while length.map({ at < $0 }) ?? true {
            let want = length.map { Int(min(Int64(size), $0 - at)) } ?? size
            let n = try fill(fd, at: offset + at, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]), failed: failed)
            if n == 0 { break }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            at += Int64(n)
        }
        return at
    }

    /// Up to `count` bytes from `offset` in one buffer (short only where the file ends), or nil when the
    /// file cannot be read there: a box header or index a probe looks at, one `pread` instead of a seek and
    /// `FileHandle`'s reads of 4 KiB.
    package static func bytes(_ fd: Int32, at offset: UInt64, upTo count: Int) -> [UInt8]? {
        guard count >= 0, let start = Int64(exactly: offset) else { return nil }
        var failed = false
        let out = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do {
                initialized = try fill(fd, at: start, into: UnsafeMutableRawBufferPointer(buffer)) { _ in CancellationError() }
            } catch {
                failed = true
                initialized = 0
            }
        }
        return failed ? nil : out
    }

    /// The error for a failed read of the file a sentence calls `name` — at `name` as a drop's file is
    /// reported (`located`), or about the file alone.
    package static func unreadable(_ name: String, located: Bool = false) -> (Int32) -> any Error {
        { e in OmniError(.unreadable, "\(name) cannot be read (\(String(cString: strerror(e))))", at: located ? SourceLocation(file: name) : nil) }
    }
}
