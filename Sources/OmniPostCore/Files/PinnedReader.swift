import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Reads the file being uploaded chunk by chunk while hashing it, and refuses to hand out the *last*
/// chunk — the request that makes the post, on every platform — unless the bytes read add up to the
/// digest recorded when the file was taken: its XXH3-128 (ledger v22 on; ~20× sha256's speed, so the
/// check costs the upload next to nothing), or its sha256 for a row from before that has no other. A
/// file rewritten between validation and upload therefore never becomes a post. Chunks may be asked for
/// out of order (a resume, a rewind to the server's offset): the prefix is hashed again from disk first.
package final class PinnedReader: @unchecked Sendable {
    package let path: String
    package let size: Int64
    package let expected: FileDigest?
    private let lock = NSLock()
    private let hasher: FileDigest.Hasher
    private var hashedTo: Int64 = 0

    package init(path: String, size: Int64, expected: FileDigest?) {
        self.path = path
        self.size = size
        self.expected = expected?.hex.isEmpty == true ? nil : expected
        hasher = FileDigest.Hasher(self.expected?.algorithm)
    }

    /// The file, opened once (`O_NOFOLLOW`: a name swapped for a link is refused) and read by position from
    /// then on: every chunk comes from the same file, whatever happens to its name meanwhile.
    private var fd: Int32 = -1

    deinit { if fd >= 0 { close(fd) } }

    private func descriptor() throws -> Int32 {
        if fd >= 0 { return fd }
        let f = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard f >= 0 else {
            let e = errno
            if e == ELOOP { throw changed("its name is now a link") }
            throw OmniError(.unreadable, "\((path as NSString).lastPathComponent) cannot be read (\(String(cString: strerror(e))))")
        }
        var st = stat()
        guard fstat(f, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            close(f)
            throw OmniError(.notRegularFile, "\((path as NSString).lastPathComponent) is \(UserFile.kindName(mode: st.st_mode)), not a regular file")
        }
        // Read front to back (a rewind re-reads a prefix once): the kernel may read ahead twice as far on a
        // disk. Advice only — nothing depends on it.
        _ = posix_fadvise(f, 0, 0, POSIX_FADV_SEQUENTIAL)
        fd = f
        return f
    }

    /// The error for a failed read of this file, made once (the chunk loop reads a block every 256 KiB).
    private lazy var unreadable: (Int32) -> any Error = FileBlocks.unreadable((path as NSString).lastPathComponent)

    package func chunk(from: Int64, count: Int) throws -> Data {
        var out = Data(count: count)
        try out.withUnsafeMutableBytes { _ = try chunk(from: from, into: $0) }
        return out
    }

    /// How much of a chunk is read, then hashed, at a time: a block the hash reads while it is still in
    /// the core's cache from being read, rather than a whole chunk read first and fetched back from
    /// memory for the hash.
    package static let block = 256 * 1024

    /// One chunk of `into.count` bytes from `from`, read into memory the caller owns (a request body's
    /// buffer) and hashed in the same pass, block by block; `alongside` sees each block as it is hashed
    /// (a part's own digests: S3's payload sha256, tus's sha1), so no byte is fetched from memory
    /// twice. The last chunk is checked against the recorded digest before it is handed out.
    @discardableResult
    package func chunk(from: Int64, into buffer: UnsafeMutableRawBufferPointer, alongside: (UnsafeRawBufferPointer) -> Void = { _ in }) throws -> Int {
        lock.lock(); defer { lock.unlock() }
        let f = try descriptor()
        let count = buffer.count
        // Nothing to check against: nothing is hashed, and the prefix is not read again for it.
        if expected == nil { hashedTo = from }
        if from != hashedTo {
            hasher.restart()
            hashedTo = 0
            // The prefix is hashed again through one buffer of a whole-file read's size, not a chunk's.
            // What the hasher has taken is always what `hashedTo` says, a failed read half-way included.
            try FileBlocks.forEach(f, length: from, failed: unreadable) {
                hasher.update($0)
                hashedTo += Int64($0.count)
            }
            guard hashedTo == from else { throw changed("it is shorter than the \(from) bytes already sent") }
        }
        var got = 0
        // A chunk that fails half-way has fed the hasher part of its bytes: the next one starts it again.
        var whole = false
        defer {
            if !whole {
                hasher.restart()
                hashedTo = 0
            }
        }
        while got < count {
            let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[got..<min(count, got + Self.block)])
            let n = try FileBlocks.fill(f, at: from + Int64(got), into: piece, failed: unreadable)
            guard n == piece.count else { throw changed("it is shorter than expected (\(from + Int64(got + n)) of \(size) bytes)") }
            let done = UnsafeRawBufferPointer(piece)
            hasher.update(done)
            alongside(done)
            got += n
        }
        hashedTo = from + Int64(count)
        whole = true
        if hashedTo == size {
            if let expected {
                let got = hasher.hex()
                if got != expected.hex {
                    throw changed(
                        "its bytes' \(expected.algorithm.rawValue) is \(got.prefix(12))…, not the \(expected.hex.prefix(12))… recorded when it was taken")
                }
            }
            // Bytes added after the ones taken leave the taken ones' hash as it was, and a file with no
            // recorded digest has none to compare: the length says so either way.
            var st = stat()
            if fstat(f, &st) == 0, Int64(st.st_size) != size {
                throw changed("it is now \(st.st_size) bytes, not the \(size) taken")
            }
        }
        return count
    }

    func changed(_ why: String) -> OmniError {
        OmniError(.sourceChanged, "\((path as NSString).lastPathComponent) changed after it was taken: \(why); the last chunk was not sent, so nothing was posted")
    }
}
