import Foundation
import OmniPostCore

/// The tracks an MP4/MOV's `moov` lists, read from the file's boxes without ffprobe: each track's kind,
/// its first sample entry (codec, picture size, or audio channels and rate), its sample count and bytes,
/// its duration and its display matrix's rotation. A rendition OmniPost wrote by copying the video stream
/// is checked with this (`CopiedRendition`): starting ffprobe costs about 60 ms of CPU in loading its
/// libraries alone, as much as a whole remux of a short clip, and told nothing a copy could have changed
/// that these boxes do not say. Every number comes from a file's bytes: every read is bounds-checked, and
/// anything not understood gives nil, never a guess.
package struct MoovTracks: Sendable, Equatable {
    package struct Track: Sendable, Equatable {
        /// `hdlr`'s handler type: `vide`, `soun`, `text`, …
        package var handler = ""
        /// The first sample entry's four-character code: `avc1`, `hvc1`, `mp4a`, `Opus`, …
        package var fourcc = ""
        /// `mp4a`'s object type (0x40 AAC, 0x69/0x6B MP3) and, for AAC, its AudioSpecificConfig's
        /// object type (2 = LC), sampling rate and channel configuration.
        package var objectType: UInt8?
        package var aacObjectType: Int?
        package var aacRate: Int?
        package var aacChannels: Int?
        package var timescale: UInt64 = 0
        package var duration: UInt64 = 0
        /// The samples' durations added up (`stts`), in `timescale`: what libavformat divides by for a
        /// track's average frame rate and bit rate.
        package var sampleTime: UInt64 = 0
        package var samples: UInt64 = 0
        package var sampleBytes: UInt64 = 0
        /// A visual sample entry's coded size.
        package var width = 0
        package var height = 0
        /// An audio sample entry's channel count and rate (versions 0 and 1; 0 for version 2).
        package var channels = 0
        package var sampleRate = 0
        /// The display matrix's rotation as ffprobe states it (`av_display_rotation_get`, degrees).
        package var rotation = 0

        package var seconds: Double { timescale > 0 ? Double(duration) / Double(timescale) : 0 }
    }

    /// `mvhd`'s duration, in seconds.
    package var durationS: Double
    package var tracks: [Track]

    /// The largest `moov` read; a rendition's index is a few hundred KiB at most.
    static let maxMoovBytes: UInt64 = 16 << 20

    /// The file's `moov`, or nil when it has none the reader understands (fragmented, too large, unreadable).
    package static func read(path: String) -> MoovTracks? {
        guard let (walker, h) = BoxWalker.open(path: path) else { return nil }
        defer { try? h.close() }
        var moov: BoxWalker.Box?
        var fragmented = false
        walker.walk(limit: 64) { box in
            if box.type == "moov" { moov = box }
            if box.type == "moof" { fragmented = true }
            return !(moov != nil && box.type == "mdat")
        }
        guard !fragmented, let moov, let size = moov.size, size <= maxMoovBytes,
            let data = FileBlocks.bytes(h.fileDescriptor, at: moov.offset, upTo: Int(size)), UInt64(data.count) == size
        else { return nil }
        return parse(moov: data)
    }

    /// A whole `moov` box (its header included).
    package static func parse(moov b: [UInt8]) -> MoovTracks? {
        var result = MoovTracks(durationS: 0, tracks: [])
        var sawHeader = false
        for box in Boxes(b, from: 8, to: b.count) {
            switch box.type {
            case "mvhd":
                guard let (scale, duration) = timing(b, body: box.body, end: box.end), scale > 0 else { return nil }
                result.durationS = Double(duration) / Double(scale)
                sawHeader = true
            case "trak":
                guard let track = trak(b, box) else { return nil }
                result.tracks.append(track)
            default: break
            }
        }
        return sawHeader ? result : nil
    }

    static func trak(_ b: [UInt8], _ trak: Boxes.Box) -> Track? {
        var t = Track()
        for box in Boxes(b, from: trak.body, to: trak.end) {
            switch box.type {
            case "tkhd": t.rotation = rotation(b, tkhd: box) ?? 0
            case "mdia":
                for m in Boxes(b, from: box.body, to: box.end) {
                    switch m.type {
                    case "mdhd":
                        guard let (scale, duration) = timing(b, body: m.body, end: m.end) else { return nil }
                        (t.timescale, t.duration) = (scale, duration)
                    case "hdlr":
                        // version/flags (4), pre_defined (4), handler_type (4).
                        guard m.body + 12 <= m.end else { return nil }
                        t.handler = String(decoding: b[m.body + 8..<m.body + 12], as: UTF8.self)
                    case "minf":
                        for stbl in Boxes(b, from: m.body, to: m.end) where stbl.type == "stbl" {
                            for s in Boxes(b, from: stbl.body, to: stbl.end) {
                                if s.type == "stsd" { sampleEntry(b, stsd: s, into: &t) }
                                if s.type == "stsz" { guard sizes(b, stsz: s, into: &t) else { return nil } }
                                if s.type == "stts" { guard times(b, stts: s, into: &t) else { return nil } }
                            }
                        }
                    default: break
                    }
                }
            default: break
            }
        }
        return t
    }

    /// `mvhd`/`mdhd`: version 0 has 32-bit times, version 1 64-bit ones.
    static func timing(_ b: [UInt8], body: Int, end: Int) -> (UInt64, UInt64)? {
        guard body < end else { return nil }
        if b[body] == 1 {
            guard body + 32 <= end, let scale = MoovIndex.be32(b, body + 20), let duration = MoovIndex.be64(b, body + 24) else { return nil }
            return (scale, duration)
        }
        guard body + 20 <= end, let scale = MoovIndex.be32(b, body + 12), let duration = MoovIndex.be32(b, body + 16) else { return nil }
        return (scale, duration)
    }

    /// The rotation of `tkhd`'s matrix, as libavutil's `av_display_rotation_get` computes it.
    static func rotation(_ b: [UInt8], tkhd: Boxes.Box) -> Int? {
        guard tkhd.body < tkhd.end else { return nil }
        // version/flags (4), times and ids (20 or 32), reserved, layer, group, volume (16), then the matrix.
        let m = tkhd.body + 4 + (b[tkhd.body] == 1 ? 32 : 20) + 16
        guard m + 36 <= tkhd.end else { return nil }
        func fixed(_ i: Int) -> Double { Double(Int32(bitPattern: UInt32(MoovIndex.be32(b, m + 4 * i) ?? 0))) / 65536 }
        let (a, bb, c, d) = (fixed(0), fixed(1), fixed(3), fixed(4))
        let s0 = (a * a + c * c).squareRoot(), s1 = (bb * bb + d * d).squareRoot()
        guard s0 > 0, s1 > 0 else { return nil }
        let degrees = -atan2(bb / s1, a / s0) * 180 / .pi
        guard degrees.isFinite else { return nil }
        return Int(degrees.rounded()) % 360
    }

    /// The first sample entry of `stsd`: a visual entry's size, an audio entry's channels and rate, and
    /// an `mp4a`'s decoder configuration.
    static func sampleEntry(_ b: [UInt8], stsd: Boxes.Box, into t: inout Track) {
        // version/flags (4), entry count (4), then the entries, each a box.
        guard let entry = Boxes(b, from: stsd.body + 8, to: stsd.end).first(where: { _ in true }) else { return }
        t.fourcc = entry.type
        // reserved (6), data_reference_index (2), then the entry's own fields.
        let fields = entry.body + 8
        switch t.handler {
        case "vide":
            // pre_defined/reserved (16), width (2), height (2).
            guard fields + 20 <= entry.end, let wh = MoovIndex.be32(b, fields + 16) else { return }
            (t.width, t.height) = (Int(wh >> 16), Int(wh & 0xFFFF))
        case "soun":
            // version (2), revision (2), vendor (4), channel count (2), sample size (2), pre_defined (2),
            // reserved (2), sample rate (16.16); QuickTime's version 1 adds 16 bytes, version 2 (whose
            // counts live elsewhere) 36; then the entry's boxes (`esds`, `dOps`).
            guard fields + 20 <= entry.end, b[fields] == 0, b[fields + 1] <= 2,
                let channels = MoovIndex.be32(b, fields + 8), let rate = MoovIndex.be32(b, fields + 16)
            else { return }
            let version = b[fields + 1]
            if version < 2 { (t.channels, t.sampleRate) = (Int(channels >> 16), Int(rate >> 16)) }
            let boxes = fields + [20, 36, 56][Int(version)]
            // QuickTime keeps `esds` inside a `wave` box.
            for box in Boxes(b, from: boxes, to: entry.end) {
                if box.type == "esds" { decoderConfig(b, esds: box, into: &t) }
                if box.type == "wave", let esds = Boxes(b, from: box.body, to: box.end).first(where: { $0.type == "esds" }) {
                    decoderConfig(b, esds: esds, into: &t)
                }
            }
        default: break
        }
    }

    /// `esds`'s ES_Descriptor → DecoderConfigDescriptor (its object type) → DecoderSpecificInfo (AAC's
    /// AudioSpecificConfig: object type, sampling frequency index, channel configuration).
    static func decoderConfig(_ b: [UInt8], esds: Boxes.Box, into t: inout Track) {
        var p = esds.body + 4  // version/flags
        func descriptor() -> (tag: UInt8, body: Int, end: Int)? {
            guard p < esds.end else { return nil }
            let tag = b[p]
            p += 1
            var length = 0
            for _ in 0..<4 {
                guard p < esds.end else { return nil }
                let byte = b[p]
                p += 1
                length = length << 7 | Int(byte & 0x7F)
                if byte & 0x80 == 0 { break }
            }
            guard p + length <= esds.end else { return nil }
            return (tag, p, p + length)
        }
        guard let es = descriptor(), es.tag == 0x03, es.body + 3 <= es.end else { return }
        // ES_ID (2), flags (1), then optional fields the flags announce.
        let flags = b[es.body + 2]
        p = es.body + 3
        if flags & 0x80 != 0 { p += 2 }
        if flags & 0x40 != 0 {
            guard p < es.end else { return }
            p += 1 + Int(b[p])
        }
        if flags & 0x20 != 0 { p += 2 }
        guard let config = descriptor(), config.tag == 0x04, config.body + 13 <= config.end else { return }
        t.objectType = b[config.body]
        p = config.body + 13
        guard t.objectType == 0x40, let specific = descriptor(), specific.tag == 0x05, specific.end - specific.body >= 2 else { return }
        // 5 bits object type, 4 bits frequency index (15: 24 explicit bits), 4 bits channel configuration.
        let bits = specific.body
        let aot = Int(b[bits] >> 3)
        let index = Int((b[bits] & 0x07) << 1 | b[bits + 1] >> 7)
        let rates = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350]
        guard aot != 31, index < rates.count else { return }
        t.aacObjectType = aot
        t.aacRate = rates[index]
        // Channel configurations 1–6 are that many channels; 7 is 7.1 (8).
        let configuration = Int(b[bits + 1] >> 3 & 0x0F)
        t.aacChannels = configuration == 7 ? 8 : (1...6).contains(configuration) ? configuration : nil
    }

    /// How many `each`-byte entries fit in `box` after its `after` bytes of header fields: none where a
    /// mangled box is shorter than its own header fields (a negative count trapped converting to UInt64 —
    /// `CopiedRenditionTests.aMangledIndexIsReadWithoutATrap` found it in r21).
    static func entries(in box: Boxes.Box, after: Int, each: Int) -> UInt64 {
        UInt64(max(0, (box.end - box.body - after) / each))
    }

    /// `stts`: runs of (sample count, sample delta), added up.
    static func times(_ b: [UInt8], stts: Boxes.Box, into t: inout Track) -> Bool {
        guard let count = MoovIndex.be32(b, stts.body + 4), count <= entries(in: stts, after: 8, each: 8) else { return false }
        var sum: UInt64 = 0
        var i = stts.body + 8
        for _ in 0..<count {
            let (n, delta) = (MoovIndex.be32(b, i) ?? 0, MoovIndex.be32(b, i + 4) ?? 0)
            let (product, over) = n.multipliedReportingOverflow(by: delta)
            guard !over else { return false }
            let (next, over2) = sum.addingReportingOverflow(product)
            guard !over2 else { return false }
            sum = next
            i += 8
        }
        t.sampleTime = sum
        return true
    }

    /// `stsz`: the sample count and the bytes they add up to.
    static func sizes(_ b: [UInt8], stsz: Boxes.Box, into t: inout Track) -> Bool {
        // version/flags (4), sample_size (4), sample_count (4), then a size each when sample_size is 0.
        guard let fixed = MoovIndex.be32(b, stsz.body + 4), let count = MoovIndex.be32(b, stsz.body + 8) else { return false }
        t.samples = count
        if fixed != 0 {
            t.sampleBytes = fixed.multipliedReportingOverflow(by: count).overflow ? .max : fixed * count
            return true
        }
        guard count <= entries(in: stsz, after: 12, each: 4) else { return false }
        var sum: UInt64 = 0
        var i = stsz.body + 12
        for _ in 0..<count {
            sum += MoovIndex.be32(b, i) ?? 0
            i += 4
        }
        t.sampleBytes = sum
        return true
    }
}

/// The boxes in `b[from..<to]`, each with where its body starts and where it ends; iteration stops at
/// the first header that does not fit.
struct Boxes: Sequence, IteratorProtocol {
    struct Box {
        var type: String
        var body: Int
        var end: Int
    }

    let b: [UInt8]
    var p: Int
    let end: Int

    init(_ b: [UInt8], from: Int, to: Int) {
        self.b = b
        self.p = from
        self.end = Swift.min(to, b.count)
    }

    mutating func next() -> Box? {
        guard p >= 0, p + 8 <= end, let size32 = MoovIndex.be32(b, p) else { return nil }
        var size = size32
        var header = 8
        if size == 1 {
            guard let s = MoovIndex.be64(b, p + 8) else { return nil }
            size = s
            header = 16
        }
        if size == 0 { size = UInt64(end - p) }
        guard size >= UInt64(header), size <= UInt64(end - p) else { return nil }
        let box = Box(type: String(decoding: b[p + 4..<p + 8], as: UTF8.self), body: p + header, end: p + Int(size))
        p = box.end
        return box
    }
}
