import Foundation
import NIOCore

/// A `multipart/form-data` body (RFC 7578), for the upload endpoints that take one (X's APPEND).
/// The parts are one media segment and a few short fields: the text around the segment is written into
/// small buffers of its own and the segment's buffer is kept as read (`pieces`), so a part is sent
/// without being copied into a form first.
package struct MultipartForm: Sendable {
    package let boundary: String
    /// Text and file buffers so far, in order; `text` is the one being written.
    private var done: [ByteBuffer] = []
    private var text = ByteBuffer()

    package init(boundary: String = "omnipost-" + UUID().uuidString) {
        self.boundary = boundary
    }

    package var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    package mutating func field(_ name: String, _ value: String) {
        text.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n")
    }

    package mutating func file(_ name: String, filename: String, contentType: String, _ bytes: ByteBuffer) {
        text.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: \(contentType)\r\n\r\n")
        done += [text, bytes]
        text = ByteBuffer(string: "\r\n")
    }

    /// The finished body (the closing delimiter added) in the order it is sent, the files' buffers
    /// among the text as they were handed in.
    package var pieces: [ByteBuffer] {
        var last = text
        last.writeString("--\(boundary)--\r\n")
        return done + [last]
    }

    /// The finished body in one buffer.
    package var body: ByteBuffer {
        var out = ByteBuffer()
        for var p in pieces { out.writeBuffer(&p) }
        return out
    }
}
