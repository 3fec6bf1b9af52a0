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

/// Recognises containers by their first bytes (not their extension) and notices ISO-BMFF files whose
/// boxes run past the end of the file — a copy that stopped early, even when `moov` came first.
public enum ContainerSniff {
    public enum Kind: Sendable { case isoBMFF, matroska, avi, mpegTS, unknown }

    public static func kind(path: String) -> Kind {
        guard let h = FileHandle(forReadingAtPath: path), let head = try? h.read(upToCount: 12) else { return .unknown }
        try? h.close()
        let b = [UInt8](head)
        guard b.count >= 8 else { return .unknown }
        let type = String(decoding: b[4..<8], as: UTF8.self)
        if ["ftyp", "moov", "mdat", "free", "wide", "skip"].contains(type) { return .isoBMFF }
        if b[0] == 0x1A, b[1] == 0x45, b[2] == 0xDF, b[3] == 0xA3 { return .matroska }
        if b[0..<4].elementsEqual("RIFF".utf8) { return .avi }
        if b[0] == 0x47 { return .mpegTS }
        return .unknown
    }

    /// True when a top-level box claims more bytes than the file has.
    public static func isTruncatedBMFF(path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        let fileSize = (try? h.seekToEnd()) ?? 0
        var offset: UInt64 = 0
        while offset + 8 <= fileSize {
            do { try h.seek(toOffset: offset) } catch { return false }
            guard let head = try? h.read(upToCount: 16), head.count >= 8 else { return false }
            let b = [UInt8](head)
            var size = UInt64(b[0]) << 24 | UInt64(b[1]) << 16 | UInt64(b[2]) << 8 | UInt64(b[3])
            if size == 1, b.count >= 16 { size = b[8..<16].reduce(0) { $0 << 8 | UInt64($1) } }
            if size == 0 { return false }   // runs to the end of the file by definition
            if size < 8 { return true }
            if offset + size > fileSize { return true }
            offset += size
        }
        return offset != fileSize
    }
}
