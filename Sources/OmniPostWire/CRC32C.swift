import CCRC32C
import Foundation

/// CRC-32C (Castagnoli), as S3's `x-amz-checksum-crc32c` names it: the part's checksum a request over
/// HTTPS carries instead of a signed sha256 (`S3Bucket.signsPayload`), and what the sandbox's S3 checks.
package struct CRC32C: Sendable {
    package private(set) var value: UInt32 = 0
    package init() {}

    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        value = omnipost_crc32c(value, base, bytes.count)
    }

    package static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = CRC32C()
        c.update(bytes)
        return c.value
    }

    package static func checksum(_ data: Data) -> UInt32 { data.withUnsafeBytes { checksum($0) } }

    /// The header's form: the four bytes big-endian, in base64.
    package static func base64(_ v: UInt32) -> String {
        Data([UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]).base64EncodedString()
    }
}
