import Foundation
import OmniPostCore

/// The top-level boxes of an ISO-BMFF (MP4/MOV) file, read from their headers only — a few small reads,
/// never the media data. Every number here comes from a user's bytes, so every sum is checked: a box
/// claiming 2^64−1 bytes is a box that runs past the end of the file, never an arithmetic trap.
package struct BoxWalker {
    package struct Box: Equatable, Sendable {
        package var type: String
        package var offset: UInt64
        /// Nil for size 0 ("to the end of the file").
        package var size: UInt64?
    }

    package enum Stop: Equatable, Sendable {
        /// The boxes tile the file exactly.
        case end
        /// A header claims more bytes than the file has, or a size below its own header.
        case overrun(Box)
        /// A box that runs to the end of the file (size 0).
        case toEnd(Box)
        /// The walk stopped early: the box limit, or a read that failed.
        case gaveUp
    }

    /// Reads the header at `offset` (up to 16 bytes); nil when fewer than 8 can be read.
    let readHeader: (UInt64) -> [UInt8]?
    let fileSize: UInt64

    package init(fileSize: UInt64, readHeader: @escaping (UInt64) -> [UInt8]?) {
        self.fileSize = fileSize
        self.readHeader = readHeader
    }

    /// Walks at most `limit` boxes, calling `visit` for each; `visit` returning false ends the walk.
    @discardableResult
    package func walk(limit: Int = 100_000, visit: (Box) -> Bool = { _ in true }) -> Stop {
        var offset: UInt64 = 0
        for _ in 0..<limit {
            if offset == fileSize { return .end }
            // offset < fileSize here, so the subtraction cannot wrap.
            guard fileSize - offset >= 8, let b = readHeader(offset), b.count >= 8 else {
                return .overrun(Box(type: "", offset: offset, size: nil))
            }
            let type = String(decoding: b[4..<8].map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
            var size = UInt64(b[0]) << 24 | UInt64(b[1]) << 16 | UInt64(b[2]) << 8 | UInt64(b[3])
            var headerLength: UInt64 = 8
            if size == 1 {
                guard b.count >= 16 else { return .overrun(Box(type: type, offset: offset, size: nil)) }
                size = b[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                headerLength = 16
            }
            if size == 0 {
                let box = Box(type: type, offset: offset, size: nil)
                _ = visit(box)
                return .toEnd(box)
            }
            let box = Box(type: type, offset: offset, size: size)
            if size < headerLength { return .overrun(box) }
            guard visit(box) else { return .gaveUp }
            // Overflow-safe "offset + size > fileSize".
            if size > fileSize - offset { return .overrun(box) }
            offset += size
        }
        return .gaveUp
    }

    /// A walker over a file on disk, opened without blocking (regular files only).
    package static func open(path: String) -> (walker: BoxWalker, handle: FileHandle)? {
        guard let h = try? UserFile.open(path: path) else { return nil }
        guard let size = try? h.seekToEnd() else { try? h.close(); return nil }
        let walker = BoxWalker(fileSize: size) { offset in
            FileBlocks.bytes(h.fileDescriptor, at: offset, upTo: 16)
        }
        return (walker, h)
    }
}

/// Whether an MP4/MOV has its `moov` box before `mdat` ("fast start").
package enum MoovCheck {
    package static func moovFirst(path: String) -> Bool? {
        guard let (walker, h) = BoxWalker.open(path: path) else { return nil }
        defer { try? h.close() }
        return moovFirst(walker)
    }

    package static func moovFirst(_ walker: BoxWalker) -> Bool? {
        var answer: Bool?
        walker.walk(limit: 64) { box in
            if box.type == "moov" { answer = true; return false }
            if box.type == "mdat" { answer = false; return false }
            return true
        }
        return answer
    }
}

/// Recognises containers by their first bytes (not their extension) and notices ISO-BMFF files whose
/// boxes run past the end of the file — a copy that stopped early, even when `moov` came first.
package enum ContainerSniff {
    package enum Kind: Sendable { case isoBMFF, matroska, avi, mpegTS, image, unknown }

    /// "text" or "nothing but zeros" when the file's first 4 KiB are plainly not media: printable UTF-8
    /// (line breaks and tabs allowed), or all zero bytes. Nil otherwise — ffprobe decides.
    package static func plainly(path: String) -> String? {
        guard let h = try? UserFile.open(path: path) else { return nil }
        defer { try? h.close() }
        let head = FileBlocks.bytes(h.fileDescriptor, at: 0, upTo: 4096) ?? []
        guard !head.isEmpty else { return nil }
        if head.allSatisfy({ $0 == 0 }) { return "nothing but zero bytes" }
        // A multi-byte character cut at the 4 KiB boundary is still text.
        let text = String(decoding: head, as: UTF8.self)
        let cut = text.unicodeScalars.reversed().prefix(while: { $0 == "\u{FFFD}" }).count
        let body = text.unicodeScalars.dropLast(min(cut, 3))
        let isText = !body.contains { $0 == "\u{FFFD}" || ($0.value < 0x20 && $0 != "\n" && $0 != "\r" && $0 != "\t") || $0.value == 0x7F }
        return isText ? "text" : nil
    }

    package static func kind(path: String) -> Kind {
        guard let h = try? UserFile.open(path: path) else { return .unknown }
        defer { try? h.close() }
        return kind(head: FileBlocks.bytes(h.fileDescriptor, at: 0, upTo: 12) ?? [])
    }

    package static func kind(head b: [UInt8]) -> Kind {
        guard b.count >= 8 else { return .unknown }
        let type = String(decoding: b[4..<8], as: UTF8.self)
        if ["ftyp", "moov", "mdat", "free", "wide", "skip"].contains(type) { return .isoBMFF }
        if b[0] == 0x1A, b[1] == 0x45, b[2] == 0xDF, b[3] == 0xA3 { return .matroska }
        if b[0..<4].elementsEqual("RIFF".utf8) { return b.count >= 12 && b[8..<12].elementsEqual("WEBP".utf8) ? .image : .avi }
        // PNG, JPEG, GIF: pictures named like videos get `not_a_video`, not a probe of their "duration".
        if b.starts(with: [0x89, 0x50, 0x4E, 0x47]) || b.starts(with: [0xFF, 0xD8, 0xFF]) || b.starts(with: Array("GIF8".utf8)) { return .image }
        if b[0] == 0x47 { return .mpegTS }
        return .unknown
    }

    /// True when a top-level box claims more bytes than the file has.
    package static func isTruncatedBMFF(path: String) -> Bool {
        guard let (walker, h) = BoxWalker.open(path: path) else { return false }
        defer { try? h.close() }
        return isTruncatedBMFF(walker)
    }

    package static func isTruncatedBMFF(_ walker: BoxWalker) -> Bool {
        switch walker.walk() {
        case .overrun: return true
        case .end, .toEnd, .gaveUp: return false
        }
    }
}
