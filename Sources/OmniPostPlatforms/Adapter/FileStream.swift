import Foundation
import NIOCore
import OmniPostCore
#if canImport(Glibc)
    import Glibc
#endif

/// A request body read from disk as it is sent, in 1 MiB buffers (a rendition is never held in memory
/// whole), optionally between a head and a tail (a multipart body's delimiters).
enum FileStream {
    static func body(head: Data = Data(), file: String, tail: Data = Data()) -> AsyncThrowingStream<ByteBuffer, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task.detached {
                do {
                    if !head.isEmpty { continuation.yield(ByteBuffer(data: head)) }
                    let h = try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
                    defer { try? h.close() }
                    while !Task.isCancelled, let d = try h.read(upToCount: 1 << 20), !d.isEmpty { continuation.yield(ByteBuffer(data: d)) }
                    if !tail.isEmpty { continuation.yield(ByteBuffer(data: tail)) }
                    continuation.finish()
                } catch { continuation.finish(throwing: error) }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The same from a pinned file's descriptor (pread: its offset is left alone), never by its name;
    /// the file is kept open while the stream lives.
    static func body(head: Data = Data(), pinned: PinnedFile, tail: Data = Data()) -> AsyncThrowingStream<ByteBuffer, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task.detached {
                do {
                    if !head.isEmpty { continuation.yield(ByteBuffer(data: head)) }
                    var at: Int64 = 0
                    var buf = [UInt8](repeating: 0, count: 1 << 20)
                    while !Task.isCancelled, at < pinned.size {
                        let n = buf.withUnsafeMutableBytes { pread(pinned.fd, $0.baseAddress!, $0.count, off_t(at)) }
                        if n < 0 { if errno == EINTR { continue }; throw OmniError(.unreadable, "cannot read \(pinned.path): \(String(cString: strerror(errno)))") }
                        if n == 0 { throw OmniError(.sourceChanged, "\(pinned.path) ended before its \(pinned.size) bytes") }
                        continuation.yield(ByteBuffer(bytes: buf[0..<n]))
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
