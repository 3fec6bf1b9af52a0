import Crypto
import Foundation

/// Reads the file being uploaded chunk by chunk while hashing it, and refuses to hand out the *last*
/// chunk — the request that makes the post, on every platform — unless the bytes read add up to the
/// sha256 recorded when the file was taken. A file rewritten between validation and upload therefore
/// never becomes a post. Chunks may be asked for out of order (a resume, a rewind to the server's
/// offset): the prefix is hashed again from disk first.
public final class PinnedReader: @unchecked Sendable {
    public let path: String
    public let size: Int64
    public let expected: String?
    private let lock = NSLock()
    private var hasher = SHA256()
    private var hashedTo: Int64 = 0

    public init(path: String, size: Int64, expected: String?) {
        self.path = path
        self.size = size
        self.expected = expected?.isEmpty == true ? nil : expected
    }

    public func chunk(from: Int64, count: Int) throws -> Data {
        lock.lock(); defer { lock.unlock() }
        let h = try UserFile.open(path: path)
        defer { try? h.close() }
        if from != hashedTo {
            hasher = SHA256()
            hashedTo = 0
            try h.seek(toOffset: 0)
            while hashedTo < from {
                let n = Int(min(Int64(FileHashing.bufferSize), from - hashedTo))
                guard let d = try h.read(upToCount: n), !d.isEmpty else { throw changed("it is shorter than the \(from) bytes already sent") }
                hasher.update(data: d)
                hashedTo += Int64(d.count)
            }
        }
        try h.seek(toOffset: UInt64(from))
        let data = try h.read(upToCount: count) ?? Data()
        guard data.count == count else { throw changed("it is shorter than expected (\(from + Int64(data.count)) of \(size) bytes)") }
        hasher.update(data: data)
        hashedTo = from + Int64(count)
        if hashedTo == size, let expected {
            let got = hasher.finalize().hex
            if got != expected {
                throw changed("its bytes hash to \(got.prefix(12))…, not the \(expected.prefix(12))… recorded when it was taken")
            }
        }
        return data
    }

    func changed(_ why: String) -> OmniError {
        OmniError(.sourceChanged, "\((path as NSString).lastPathComponent) changed after it was taken: \(why); the last chunk was not sent, so nothing was posted")
    }
}
