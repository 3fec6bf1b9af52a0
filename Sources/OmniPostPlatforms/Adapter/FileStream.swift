import Foundation
import NIOCore
import OmniPostCore
#if canImport(Glibc)
    import Glibc
#endif

/// A request body read from disk as it is sent, optionally between a head and a tail (a multipart body's
/// delimiters). It is read as the HTTP client asks for it — a block (`FileStream.block`) each time the
/// socket has taken the one before — so a rendition is never held in memory whole, however slow the
/// network is beside the disk (it used to be read ahead into an unbounded stream by a task of its own).
/// Each block is read straight into the buffer that is sent.
struct FileStream: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    /// Under the daemon's 1 MiB mmap threshold (`MemoryTuning`): a block's buffer comes from the heap and
    /// goes back to it, not a fresh mapping each time.
    static let block = 512 << 10

    let head: Data, tail: Data
    /// Opens the file: its descriptor, the bytes to send, its name for a sentence, and what closes it.
    let open: @Sendable () throws -> Source

    struct Source: Sendable {
        var fd: Int32
        var size: Int64
        var path: String
        /// A name opened here: the descriptor is this body's, closed with the handle once the file is read.
        var handle: FileHandle? = nil
        /// Keeps the pinned file — and so its descriptor — alive while the body is read.
        var keep: PinnedFile? = nil
    }

    /// The file at `file`, opened by name when the body is first read: a regular file, all of it as it is then.
    static func body(head: Data = Data(), file: String, tail: Data = Data()) -> FileStream {
        FileStream(head: head, tail: tail) {
            // As every reader of a user's file opens it (`UserFile`: never blocking, a regular file or refused).
            let handle = try UserFile.open(path: file, displayName: (file as NSString).lastPathComponent)
            var st = stat()
            guard fstat(handle.fileDescriptor, &st) == 0 else { throw OmniError(.unreadable, "\((file as NSString).lastPathComponent) cannot be read") }
            return Source(fd: handle.fileDescriptor, size: Int64(st.st_size), path: file, handle: handle)
        }
    }

    /// The same from a pinned file's descriptor, never by its name: exactly its `size` bytes, hashed as they
    /// are read, and a file whose bytes are no longer those checked when it was pinned (cut short, added to,
    /// or rewritten in place: its digest, or without one its mtime — `PinnedFile.confirm`) fails the body
    /// `source_changed` before its last block, so the request never completes with other bytes.
    static func body(head: Data = Data(), pinned: PinnedFile, tail: Data = Data()) -> FileStream {
        FileStream(head: head, tail: tail) { Source(fd: pinned.fd, size: pinned.size, path: pinned.path, keep: pinned) }
    }

    final class AsyncIterator: AsyncIteratorProtocol {
        let body: FileStream
        var source: Source?
        var at: Int64 = 0
        var stage = 0  // 0: the head, 1: the file, 2: the tail, 3: done
        /// A pinned file's bytes as read, for its check before the last block.
        var hasher: FileDigest.Hasher?

        init(_ body: FileStream) { self.body = body }

        deinit { release() }

        func next() async throws -> ByteBuffer? {
            do { return try step() } catch {
                // A body that failed ends there: asked again, it gives nothing more, not its tail.
                stage = 3
                release()
                throw error
            }
        }

        /// Closes a descriptor this body opened, once the file is read (or the body failed).
        private func release() {
            try? source?.handle?.close()
            source = nil
        }

        private func step() throws -> ByteBuffer? {
            while true {
                switch stage {
                case 0:
                    stage = 1
                    if !body.head.isEmpty { return ByteBuffer(data: body.head) }
                case 1:
                    try Task.checkCancellation()
                    if source == nil {
                        source = try body.open()
                        hasher = source?.keep?.hasher()
                    }
                    let s = source!
                    guard at < s.size else {
                        stage = 2
                        release()
                        continue
                    }
                    let want = Int(Swift.min(Int64(FileStream.block), s.size - at))
                    let name = (s.path as NSString).lastPathComponent
                    var buffer = ByteBufferAllocator().buffer(capacity: want)
                    let n = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { raw in
                        try FileBlocks.fill(s.fd, at: at, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<want]), failed: FileBlocks.unreadable(name))
                    }
                    if n < want { throw OmniError(.sourceChanged, "\(name) ended before its \(s.size) bytes") }
                    if let pinned = s.keep {
                        buffer.withUnsafeReadableBytes { hasher?.update($0) }
                        // The pinned file's last block: the bytes that were checked, or it is not sent.
                        if at + Int64(n) == s.size { try pinned.confirm(read: hasher, after: "its last block was not sent") }
                    }
                    at += Int64(n)
                    return buffer
                case 2:
                    stage = 3
                    if !body.tail.isEmpty { return ByteBuffer(data: body.tail) }
                default:
                    return nil
                }
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(self) }
}
