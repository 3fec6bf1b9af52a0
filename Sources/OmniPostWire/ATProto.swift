import Crypto
import Foundation

/// The AT Protocol's small encodings, shared by Bluesky's adapter and the sandbox's PDS: record keys
/// (TIDs) and blob CIDs. atproto.com/specs/record-key#record-key-type-tid, atproto.com/specs/data-model#link-and-cid-formats
package enum ATProto {
    static let sortable = Array("234567abcdefghijklmnopqrstuvwxyz")

    /// A TID: 64 bits (the top one zero) of microseconds since the epoch and a 10-bit clock id, in
    /// base32-sortable, 13 characters. Chosen before a record is written, it makes the write findable.
    package static func tid(micros: UInt64, clock: UInt64) -> String {
        var v = (micros << 10 | clock & 0x3ff) & 0x7fff_ffff_ffff_ffff
        var out = [Character](repeating: "2", count: 13)
        for i in stride(from: 12, through: 0, by: -1) {
            out[i] = sortable[Int(v & 31)]
            v >>= 5
        }
        return String(out)
    }

    package static func tid(now: Date = Date()) -> String {
        tid(micros: UInt64(now.timeIntervalSince1970 * 1_000_000), clock: UInt64.random(in: 0..<1024))
    }

    package static func isTID(_ s: String) -> Bool {
        s.count == 13 && s.allSatisfy { sortable.contains($0) } && !"jklmnopqrstuvwxyz".contains(s.first!)
    }

    /// A blob's CID: CIDv1, raw codec, sha2-256, in base32 (lower case, `b` prefix): `bafkrei…`.
    package static func blobCID(sha256 digest: Data) -> String {
        let bytes = Data([0x01, 0x55, 0x12, 0x20]) + digest
        return "b" + base32(bytes)
    }

    package static func blobCID(_ data: Data) -> String { blobCID(sha256: Data(SHA256.hash(data: data))) }

    static func base32(_ data: Data) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var out = ""
        var buffer = 0, bits = 0
        for b in data {
            buffer = buffer << 8 | Int(b)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return out
    }
}
