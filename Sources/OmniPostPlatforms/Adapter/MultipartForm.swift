import Foundation
import NIOCore

/// A `multipart/form-data` body (RFC 7578), for the upload endpoints that take one (X's APPEND).
/// Built in one buffer: the parts are one media segment and a few short fields.
package struct MultipartForm: Sendable {
    package let boundary: String
    private var buffer = ByteBuffer()

    package init(boundary: String = "omnipost-" + UUID().uuidString) {
        self.boundary = boundary
    }

    package var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    package mutating func field(_ name: String, _ value: String) {
        buffer.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n")
    }

    package mutating func file(_ name: String, filename: String, contentType: String, _ bytes: ByteBuffer) {
        buffer.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: \(contentType)\r\n\r\n")
        var b = bytes
        buffer.writeBuffer(&b)
        buffer.writeString("\r\n")
    }

    /// The finished body (the closing delimiter added).
    package var body: ByteBuffer {
        var b = buffer
        b.writeString("--\(boundary)--\r\n")
        return b
    }
}
