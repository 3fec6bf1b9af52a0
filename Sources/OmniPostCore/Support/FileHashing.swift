import Crypto
import Foundation

/// Streamed sha256: bounded memory whatever the file size.
package enum FileHashing {
    package static let bufferSize = 1 << 20

    /// `tick` is called after every read (a `StallGuard`'s deadline on progress). Only regular files are
    /// opened, never blocking: a FIFO or device is refused with `not_regular_file`.
    package static func sha256(path: String, displayName: String? = nil, tick: () -> Void = {}) throws -> (hex: String, bytes: Int64) {
        let handle = try UserFile.open(path: path, displayName: displayName)
        defer { try? handle.close() }
        var hasher = SHA256()
        var total: Int64 = 0
        while true {
            let chunk = try handle.read(upToCount: bufferSize) ?? Data()
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
            total += Int64(chunk.count)
            tick()
        }
        return (hasher.finalize().hex, total)
    }

    package static func sha256(data: Data) -> String { SHA256.hash(data: data).hex }

    /// Streamed MD5, only to compare with what S3 names an object by (a single-part object's ETag).
    package static func md5(path: String) throws -> String {
        let handle = try UserFile.open(path: path, displayName: nil)
        defer { try? handle.close() }
        var hasher = Insecure.MD5()
        while let chunk = try handle.read(upToCount: bufferSize), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().hex
    }
}

extension Sequence where Element == UInt8 {
    package var hex: String { map { String(format: "%02x", $0) }.joined() }
}
