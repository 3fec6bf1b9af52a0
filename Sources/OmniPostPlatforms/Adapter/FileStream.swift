import Foundation
import NIOCore
import OmniPostCore
#if canImport(Glibc)
    import Glibc
#endif

/// A request body read from disk as it is sent, a block at a time (`FileBlocks.size`; a rendition is never
/// held in memory whole), optionally between a head and a tail (a multipart body's delimiters). Each
/// block is read straight into the buffer that is sent: no copy between the read and the wire.
enum FileStream {
    /// The file at `file`, opened by name when the stream starts.
    static func body(head: Data = Data(), file: String, tail: Data = Data()) -> AsyncThrowingStream<ByteBuffer, any Error> {
        blocks(head: head, tail: tail) {
            let fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY)
            guard fd >= 0 else { throw OmniError(.unreadable, "\((file as NSString).lastPathComponent) cannot be read (\(String(cString: strerror(errno))))") }
            var st = stat()
            let size = fstat(fd, &st) == 0 ? Int64(st.st_size) : 0
            return (fd, size, file, { close(fd) })
        }
    }

    /// The same from a pinned file's descriptor, never by its name: exactly its `size` bytes (a file that
    /// ends sooner fails the body `source_changed`); the file is kept open while the stream lives.
    static func body(head: Data = Data(), pinned: PinnedFile, tail: Data = Data()) -> AsyncThrowingStream<ByteBuffer, any Error> {
        blocks(head: head, tail: tail) { (pinned.fd, pinned.size, pinned.path, { withExtendedLifetime(pinned) {} }) }
    }

    /// `size` bytes of the descriptor `open` hands over, from its start, in blocks read on a task of the
    /// stream's own (cancelled with it).
    private static func blocks(
        head: Data, tail: Data, open: @escaping @Sendable () throws -> (fd: Int32, size: Int64, path: String, done: @Sendable () -> Void)
    ) -> AsyncThrowingStream<ByteBuffer, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task.detached {
                do {
                    if !head.isEmpty { continuation.yield(ByteBuffer(data: head)) }
                    let (fd, size, path, done) = try open()
                    defer { done() }
                    let name = (path as NSString).lastPathComponent
                    var at: Int64 = 0
                    while !Task.isCancelled, at < size {
                        let want = Int(min(Int64(FileBlocks.size), size - at))
                        var block = ByteBufferAllocator().buffer(capacity: want)
                        let n = try block.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { raw in
                            try FileBlocks.fill(fd, at: at, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<want]), failed: FileBlocks.unreadable(name))
                        }
                        if n < want { throw OmniError(.sourceChanged, "\(path) ended before its \(size) bytes") }
                        continuation.yield(block)
                        at += Int64(n)
                    }
                    if !tail.isEmpty { continuation.yield(ByteBuffer(data: tail)) }
                    continuation.finish()
                } catch { continuation.finish(throwing: error) }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
