import Foundation
import NIOCore

/// A `multipart/form-data` body (RFC 7578), for the upload endpoints that take one (X's APPEND,
/// Douyin's and Bilibili's parts, covers and captions). `body` joins it into one buffer; a chunked
/// upload's part does not go through it but through `frame`: the text before and after the file, which
/// the chunk loop reads the part between, so the part is never copied into a form.
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

    /// What a form of `fields` and one file puts before and after the file's bytes.
    package static func frame(
        boundary: String, fields: [(String, String)] = [], file name: String, filename: String, contentType: String
    ) -> PartFrame {
        var form = MultipartForm(boundary: boundary)
        for (k, v) in fields { form.field(k, v) }
        form.file(name, filename: filename, contentType: contentType, ByteBuffer())
        let p = form.pieces
        return PartFrame(head: Array(p[0].readableBytesView), tail: Array(p[2].readableBytesView))
    }

    /// The finished body in one buffer.
    package var body: ByteBuffer {
        var out = ByteBuffer()
        for var p in pieces { out.writeBuffer(&p) }
        return out
    }
}
