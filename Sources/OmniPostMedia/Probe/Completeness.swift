import Foundation
import OmniPostCore

/// Whether a file that has stopped changing is *structurally* whole — the evidence poll mode lacks
/// (it cannot see a close) and that even a close is not: a writer may close after the MP4 header and
/// append the media a second later. Reads headers and indexes only, never the media data.
package enum Completeness {
    package enum Verdict: Sendable, Equatable {
        case complete
        /// Still arriving, and why ("its MP4 boxes run past the end", "0 bytes so far"…).
        case incomplete(String)
    }

    /// The largest `moov` read to check sample offsets; a bigger one is trusted to its box sizes.
    static let maxMoovBytes: UInt64 = 64 << 20

    /// A video: not empty; ISO-BMFF boxes that tile the file, a `moov`, and sample data that exists;
    /// Matroska/WebM whose segment fits. Anything else is left for validation to name.
    package static func video(path: String) -> Verdict {
        guard let h = try? UserFile.open(path: path) else { return .complete }  // validation names it
        defer { try? h.close() }
        guard let size = try? h.seekToEnd() else { return .complete }
        if size == 0 { return .incomplete("0 bytes so far") }
        let head = FileBlocks.bytes(h.fileDescriptor, at: 0, upTo: 64) ?? []
        switch ContainerSniff.kind(head: Array(head.prefix(12))) {
        case .isoBMFF: return isoBMFF(handle: h, size: size)
        case .matroska: return matroska(head: head, size: size) { FileBlocks.bytes(h.fileDescriptor, at: $0, upTo: $1) }
        default: return .complete
        }
    }

    static func isoBMFF(handle h: FileHandle, size: UInt64) -> Verdict {
        let walker = BoxWalker(fileSize: size) { offset in
            FileBlocks.bytes(h.fileDescriptor, at: offset, upTo: 16)
        }
        var moov: BoxWalker.Box?
        var fragmented = false
        switch walker.walk(visit: { box in
            if box.type == "moov" { moov = box }
            if box.type == "moof" { fragmented = true }
            return true
        }) {
        case .overrun(let box):
            return .incomplete(box.type.isEmpty ? "it ends inside a box header" : "its '\(box.type)' box runs past the end of the file")
        case .toEnd(let box) where box.type != "mdat":
            return .complete
        case .end, .toEnd, .gaveUp:
            break
        }
        guard let moov, let moovSize = moov.size else { return .incomplete("it has no 'moov' (index) yet") }
        if fragmented || moovSize > maxMoovBytes { return .complete }
        guard let data = FileBlocks.bytes(h.fileDescriptor, at: moov.offset, upTo: Int(moovSize)), UInt64(data.count) == moovSize else {
            return .incomplete("its 'moov' cannot be read whole yet")
        }
        let needed = MoovIndex.dataEnd(moov: data)
        if let needed, needed > size {
            return .incomplete("its index points at media up to byte \(needed), and the file has \(size)")
        }
        return .complete
    }

    /// EBML header, then a Segment whose declared size must fit in the file — or, of an unknown size (all
    /// ones, as a live recorder or ffmpeg writing WebM to a pipe writes it), whose elements must
    /// (`unsizedSegment`). `read` gives up to n bytes at an offset of the file.
    static func matroska(head: [UInt8], size: UInt64, read: (UInt64, Int) -> [UInt8]? = { _, _ in nil }) -> Verdict {
        var p = 4
        guard let (headerSize, n) = EBML.vint(head, at: p, keepMarker: false) else { return .incomplete("its EBML header is cut short") }
        p += n
        guard let afterHeader = Int(exactly: headerSize).flatMap({ p.addingReportingOverflow($0).overflow ? nil : p + $0 }) else { return .complete }
        guard afterHeader + 4 < head.count else {
            return UInt64(afterHeader) + 12 > size ? .incomplete("it ends before its Segment starts") : .complete
        }
        guard head[afterHeader..<afterHeader + 4].elementsEqual([0x18, 0x53, 0x80, 0x67]) else { return .complete }
        guard let (segSize, m) = EBML.vint(head, at: afterHeader + 4, keepMarker: false) else { return .incomplete("its Segment header is cut short") }
        let dataStart = UInt64(afterHeader + 4 + m)
        if EBML.isUnknownSize(head, at: afterHeader + 4) { return unsizedSegment(from: dataStart, fileSize: size, read: read) }
        let (end, overflow) = dataStart.addingReportingOverflow(segSize)
        if overflow || end > size { return .incomplete("its Segment declares \(segSize) bytes and the file has \(size - min(size, dataStart))") }
        return .complete
    }
}

extension Completeness {
    /// How many of an unsized Segment's elements are walked before the file is left to ffprobe: a cluster
    /// is seconds of media, so this is days of it.
    static let maxElements = 200_000

    /// A Segment of unknown size ends where its file does, so only its elements tell a file cut short: each
    /// top-level one (SeekHead, Info, Tracks, Cluster, Cues…) is stepped over by its declared size, and one
    /// that runs past the end of the file is still arriving — a WebM written to a pipe and copied in chunks
    /// was published after its first chunk (an independent check), its last Cluster cut off. An element
    /// of unknown size too (a live recorder's open Cluster) or bytes that are not an element: as before,
    /// whole for this check, ffprobe's to judge.
    static func unsizedSegment(from start: UInt64, fileSize: UInt64, read: (UInt64, Int) -> [UInt8]?) -> Verdict {
        var p = start
        var walked = 0
        while p < fileSize, walked < maxElements {
            walked += 1
            // An ID is at most 4 bytes, a size at most 8.
            guard let b = read(p, 12), !b.isEmpty else { return .complete }
            let cutShort = p + UInt64(b.count) >= fileSize && b.count < 12
            guard let (id, idLength) = EBML.vint(b, at: 0, keepMarker: true), idLength <= 4 else {
                return cutShort && b[0] != 0 ? .incomplete("it ends inside an element's header") : .complete
            }
            guard let (length, sizeLength) = EBML.vint(b, at: idLength, keepMarker: false) else {
                return cutShort ? .incomplete("it ends inside an element's header") : .complete
            }
            if EBML.isUnknownSize(b, at: idLength) { return .complete }
            let body = p + UInt64(idLength + sizeLength)
            let (end, overflow) = body.addingReportingOverflow(length)
            if overflow || end > fileSize {
                let what = id == 0x1F43_B675 ? "its last Cluster" : "its element 0x" + String(id, radix: 16, uppercase: true)
                return .incomplete("\(what) declares \(length) bytes and the file ends \(fileSize - min(fileSize, body)) bytes into it")
            }
            p = end
        }
        return .complete
    }
}

/// EBML variable-length integers (Matroska), overflow-safe.
enum EBML {
    /// The value and length of the vint at `i`; nil when cut short or invalid.
    static func vint(_ b: [UInt8], at i: Int, keepMarker: Bool) -> (UInt64, Int)? {
        guard i < b.count, b[i] != 0 else { return nil }
        let length = b[i].leadingZeroBitCount + 1
        guard i + length <= b.count else { return nil }
        var v = UInt64(keepMarker ? b[i] : b[i] & (0xFF >> length))
        for j in 1..<length { v = v << 8 | UInt64(b[i + j]) }
        return (v, length)
    }

    static func isUnknownSize(_ b: [UInt8], at i: Int) -> Bool {
        guard let (v, length) = vint(b, at: i, keepMarker: false) else { return false }
        return v == (UInt64(1) << UInt64(7 * length)) - 1
    }
}

/// Reads a `moov` box's sample tables: where the last sample of every track ends.
enum MoovIndex {
    static let containers: Set<String> = ["moov", "trak", "mdia", "minf", "stbl", "edts", "dinf"]

    /// The furthest byte the index refers to (max over tracks of last chunk offset + last sample size),
    /// or nil when it refers to none (no samples, or tables it does not understand).
    static func dataEnd(moov: [UInt8]) -> UInt64? {
        var furthest: UInt64?
        walk(moov, from: 8, to: moov.count, furthest: &furthest)
        return furthest
    }

    static func be32(_ b: [UInt8], _ i: Int) -> UInt64? {
        guard i >= 0, i + 4 <= b.count else { return nil }
        return UInt64(b[i]) << 24 | UInt64(b[i + 1]) << 16 | UInt64(b[i + 2]) << 8 | UInt64(b[i + 3])
    }

    static func be64(_ b: [UInt8], _ i: Int) -> UInt64? {
        guard let hi = be32(b, i), let lo = be32(b, i + 4) else { return nil }
        return hi << 32 | lo
    }

    /// How deep containers are followed: a real `moov` nests five (moov › trak › mdia › minf › stbl). A file
    /// of 40 KB nesting 5,000 `trak`s overflowed the stack in this walk — a crash at every start.
    static let maxDepth = 16

    /// Walks boxes in `b[start..<end]`; in each `stbl` pairs the last chunk offset with the last sample size.
    static func walk(_ b: [UInt8], from start: Int, to end: Int, depth: Int = 0, furthest: inout UInt64?) {
        guard depth < maxDepth else { return }
        var p = start
        var lastChunk: UInt64?
        var lastSample: UInt64?
        var guardCount = 0
        while p + 8 <= end, guardCount < 10_000 {
            guardCount += 1
            guard let size32 = be32(b, p) else { return }
            let type = String(decoding: b[p + 4..<p + 8], as: UTF8.self)
            var size = size32
            var header = 8
            if size == 1 { guard let s = be64(b, p + 8) else { return }; size = s; header = 16 }
            if size == 0 { size = UInt64(end - p) }
            guard size >= UInt64(header), size <= UInt64(end - p) else { return }
            let boxEnd = p + Int(size)
            let body = p + header
            if containers.contains(type) {
                walk(b, from: body, to: boxEnd, depth: depth + 1, furthest: &furthest)
            } else if type == "stco" || type == "co64" {
                // version/flags (4), entry count (4), entries.
                if let count = be32(b, body + 4), count > 0 {
                    let width = type == "stco" ? 4 : 8
                    var maxOffset: UInt64 = 0
                    // The furthest chunk, not merely the last listed: offsets need not be ascending.
                    var i = body + 8
                    var n: UInt64 = 0
                    while n < count, i + width <= boxEnd {
                        let v = (width == 4 ? be32(b, i) : be64(b, i)) ?? 0
                        maxOffset = max(maxOffset, v)
                        i += width
                        n += 1
                    }
                    lastChunk = maxOffset
                }
            } else if type == "stsz" {
                // version/flags (4), sample_size (4), count (4), sizes when sample_size is 0.
                if let fixed = be32(b, body + 4), let count = be32(b, body + 8), count > 0 {
                    if fixed != 0 {
                        lastSample = fixed
                    } else {
                        let i = body + 12 + Int(min(count, UInt64(Int32.max)) - 1) * 4
                        lastSample = i + 4 <= boxEnd ? be32(b, i) : nil
                    }
                }
            }
            p = boxEnd
        }
        if let chunk = lastChunk {
            let (end, overflow) = chunk.addingReportingOverflow(lastSample ?? 1)
            let value = overflow ? UInt64.max : end
            furthest = max(furthest ?? 0, value)
        }
    }
}
