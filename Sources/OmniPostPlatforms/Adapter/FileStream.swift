import Foundation
import NIOCore

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
}
