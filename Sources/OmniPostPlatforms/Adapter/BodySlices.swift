import AsyncHTTPClient
import Foundation
import NIOCore

/// A request body held in memory (a part as read and hashed), handed to AsyncHTTPClient over TLS in
/// slices of that same buffer — no copy, nothing read again — so the bytes sent are exactly the bytes
/// vouched for, and a part sent again is the same buffer sliced again.
///
/// Why slices over TLS: AsyncHTTPClient writes a `.bytes` body in one write, and NIOSSL encrypts a whole
/// write into an outbound buffer of its own (`ByteBufferBIO`, kept for the connection) before the socket
/// takes any of it — another 8 MiB for an 8 MiB part (peak RSS over HTTPS: tus 77, S3 84 MiB). A
/// streamed body is written a slice at a time, the next once the channel is writable again, so TLS holds
/// about one slice's ciphertext (tus 68, S3 74.5). Over plain HTTP a write goes to the socket as it is,
/// nothing held beside it: slicing saves no memory there and its hand-offs between AsyncHTTPClient's task
/// and the event loop cost ~0.05 CPU-s a GiB, so the body goes whole (docs/performance.md, r16).
///
/// A server that answers before reading the body (a 401 for a revoked token; a streamed multipart body
/// hung on one once, `4deaaca`): AsyncHTTPClient stops the body on an early answer of 300 or more and
/// closes the connection, and hands an early 2xx over as it comes — `BodySlicesTests` sends 32 MiB to both.
package struct BodySlices: AsyncSequence, Sendable {
    package typealias Element = ByteBuffer

    /// The largest slice written at once (r16, over HTTPS, median of 3: 256 KiB cost the client no more
    /// CPU than the whole part — tus 0.92 against 0.90 CPU-s a GiB, S3 1.10 against 1.13 — where 1 MiB
    /// cost 1.06 and 1.26 — likely because NIOSSL's buffer for a 1 MiB slice grows to 2 MiB, past the
    /// 1 MiB mmap threshold the daemon sets (`MemoryTuning`), a fresh mapping each time; not verified. The
    /// peak RSS was the same.)
    package static let size = 256 << 10

    let bytes: ByteBuffer

    /// The request body for `bytes` sent over TLS (`tls`) or not: in slices over TLS when it is larger
    /// than one, its length known (Content-Length, never chunked); else the buffer whole.
    package static func body(_ bytes: ByteBuffer, tls: Bool) -> HTTPClientRequest.Body {
        guard tls, bytes.readableBytes > size else { return .bytes(bytes) }
        return .stream(BodySlices(bytes: bytes), length: .known(Int64(bytes.readableBytes)))
    }

    /// Whether `url` goes over TLS.
    package static func tls(_ url: String) -> Bool { url.prefix(8).lowercased() == "https://" }

    package struct AsyncIterator: AsyncIteratorProtocol {
        var rest: ByteBuffer

        package mutating func next() async -> ByteBuffer? {
            guard rest.readableBytes > 0 else { return nil }
            return rest.readSlice(length: Swift.min(BodySlices.size, rest.readableBytes))
        }
    }

    package func makeAsyncIterator() -> AsyncIterator { AsyncIterator(rest: bytes) }
}
