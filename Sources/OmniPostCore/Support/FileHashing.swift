import Crypto
import Foundation

/// Streamed sha256 (and XXH3-128 beside it, in the same read): bounded memory whatever the file size.
package enum FileHashing {
    /// `tick` is called after every read (a `StallGuard`'s deadline on progress). Only regular files are
    /// opened, never blocking: a FIFO or device is refused with `not_regular_file`.
    package static func sha256(path: String, displayName: String? = nil, tick: () -> Void = {}) throws -> (hex: String, bytes: Int64) {
        let d = try hash(path: path, displayName: displayName, xxh3: false, tick: tick)
        return (d.hex, d.bytes)
    }

    /// The sha256 and the XXH3-128 of a file that will be uploaded, in one read: the sha256 is its identity
    /// (duplicates, the protocols that name it), the XXH3-128 what the upload's changed-file check hashes
    /// at wire speed (`PinnedReader`). Same rules as `sha256(path:)`.
    package static func digests(path: String, displayName: String? = nil, tick: () -> Void = {}) throws -> (hex: String, xxh3: String, bytes: Int64) {
        let d = try hash(path: path, displayName: displayName, xxh3: true, tick: tick)
        return (d.hex, d.xxh3 ?? "", d.bytes)
    }

    private static func hash(path: String, displayName: String?, xxh3: Bool, tick: () -> Void) throws -> (hex: String, xxh3: String?, bytes: Int64) {
        let handle = try UserFile.open(path: path, displayName: displayName)
        defer { try? handle.close() }
        var hasher = SHA256()
        let fast = xxh3 ? XXH3Hasher() : nil
        // One read of each block for both digests, while it is in the cache (`FileBlocks`: never
        // `FileHandle.read`, 4 KiB a call).
        let total = try FileBlocks.forEach(handle.fileDescriptor, failed: FileBlocks.unreadable(displayName ?? path, located: true)) { block in
            hasher.update(bufferPointer: block)
            fast?.update(block)
            tick()
        }
        return (hasher.finalize().hex, fast?.hex(), total)
    }

    package static func sha256(data: Data) -> String { SHA256.hash(data: data).hex }

    /// Streamed MD5, only to compare with what S3 names an object by (a single-part object's ETag).
    package static func md5(path: String) throws -> String {
        let handle = try UserFile.open(path: path, displayName: nil)
        defer { try? handle.close() }
        var hasher = Insecure.MD5()
        try FileBlocks.forEach(handle.fileDescriptor, failed: FileBlocks.unreadable(path)) { hasher.update(bufferPointer: $0) }
        return hasher.finalize().hex
    }
}

extension Sequence where Element == UInt8 {
    package var hex: String { map { String(format: "%02x", $0) }.joined() }
}
