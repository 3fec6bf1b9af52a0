import Crypto
import Foundation
import OmniPostWire

/// S3's additional checksums (`x-amz-checksum-*`), as S3 checks them on a part: one at most a request, its
/// algorithm the one the multipart upload was created with (`x-amz-checksum-algorithm`), its value the
/// bytes' digest in base64 — a mismatch is 400 BadDigest and the part is not stored. The AWS SDKs send one
/// with every upload (botocore: CRC32 by default; over HTTPS in place of the signed sha256).
enum S3Checksums {
    /// The algorithms this sandbox works out (S3's CRC64NVME is not among them: refused as unsupported
    /// here rather than taken unchecked).
    static let algorithms = ["CRC32", "CRC32C", "SHA1", "SHA256"]

    /// The checksum headers a request carries: (algorithm, base64 value).
    static func sent(_ header: (String) -> String?) -> [(String, String)] {
        (algorithms + ["CRC64NVME"]).compactMap { a in header("x-amz-checksum-" + a.lowercased()).map { (a, $0) } }
    }

    static func digest(_ algorithm: String, _ data: Data) -> String {
        switch algorithm {
        case "CRC32": return CRC32C.base64(crc32(data))
        case "CRC32C": return CRC32C.base64(CRC32C.checksum(data))
        case "SHA1": return Data(Insecure.SHA1.hash(data: data)).base64EncodedString()
        default: return Data(SHA256.hash(data: data)).base64EncodedString()
        }
    }

    /// CRC-32 (ISO-HDLC, zlib's): byte at a time from a table — the sandbox checks what clients send,
    /// its speed is not ours.
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        return c
    }

    static func crc32(_ data: Data) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        data.withUnsafeBytes { raw in
            for b in raw { c = (c >> 8) ^ table[Int((c ^ UInt32(b)) & 0xFF)] }
        }
        return ~c
    }
}
