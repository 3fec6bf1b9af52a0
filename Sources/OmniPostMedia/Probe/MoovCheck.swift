import Foundation

/// Whether an MP4/MOV has its `moov` box before `mdat` ("fast start"), read from the top-level box
/// headers only — a few reads, never the media data.
public enum MoovCheck {
    public static func moovFirst(path: String) -> Bool? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        var offset: UInt64 = 0
        for _ in 0..<64 {
            do { try h.seek(toOffset: offset) } catch { return nil }
            guard let head = try? h.read(upToCount: 16), head.count >= 8 else { return nil }
            let b = [UInt8](head)
            var size = UInt64(b[0]) << 24 | UInt64(b[1]) << 16 | UInt64(b[2]) << 8 | UInt64(b[3])
            let type = String(decoding: b[4..<8], as: UTF8.self)
            if size == 1, b.count >= 16 {
                size = b[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
            }
            if type == "moov" { return true }
            if type == "mdat" { return false }
            if size < 8 { return nil }
            offset += size
        }
        return nil
    }
}
