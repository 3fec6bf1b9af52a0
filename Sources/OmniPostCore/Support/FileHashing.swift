import Crypto
import Foundation

/// Streamed sha256: bounded memory whatever the file size.
public enum FileHashing {
    public static let bufferSize = 1 << 20

    public static func sha256(path: String) throws -> (hex: String, bytes: Int64) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw OmniError(.unreadable, "cannot open \(path) for reading (permission denied or missing)")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        var total: Int64 = 0
        while true {
            let chunk = try handle.read(upToCount: bufferSize) ?? Data()
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
            total += Int64(chunk.count)
        }
        return (hasher.finalize().hex, total)
    }

    public static func sha256(data: Data) -> String { SHA256.hash(data: data).hex }
}

extension Sequence where Element == UInt8 {
    public var hex: String { map { String(format: "%02x", $0) }.joined() }
}
