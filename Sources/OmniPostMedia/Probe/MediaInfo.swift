/// What ffprobe says about a clip, reduced to the facts the planner checks. Stored in the ledger as JSON.
package struct MediaInfo: Sendable, Codable, Equatable {
    package struct Video: Sendable, Codable, Equatable {
        package var codec: String
        /// Display size: coded size with the pixel aspect and rotation applied (a phone's 1920×1080
        /// rotated 90° is 1080×1920; 720×576 with 16:15 pixels is 768×576).
        package var width: Int
        package var height: Int
        package var pixelFormat: String
        package var fps: Double
        package var rotation: Int
        package var bitRate: Int?
        /// Sample (pixel) aspect ratio when not square, e.g. 1.333 for anamorphic DV; nil = square.
        package var sar: Double? = nil
        /// The codec's profile as ffprobe names it ("Main 10", "High 4:2:2", "HQ").
        package var profile: String? = nil
        /// Colour tags as ffprobe names them (`bt2020`, `smpte2084`, `bt2020nc`, `tv`); nil = untagged.
        package var colour: Colour? = nil
        /// Dolby Vision profile when the stream carries a configuration record (8 from phones).
        package var dolbyVision: Int? = nil
        /// The frame rate varies (phones): the average and the stream's base rate disagree.
        package var variableFrameRate: Bool? = nil
        /// ffprobe's field order: `progressive`, or `tt`/`bb`/`tb`/`bt` for interlaced video (1080i broadcast,
        /// camcorders); nil when the stream does not say.
        package var fieldOrder: String? = nil
        /// Two fields per frame, taken at different instants: scaling such a frame blends them into a double image.
        package var interlaced: Bool { ["tt", "bb", "tb", "bt"].contains(fieldOrder ?? "") }
        package var aspect: Double { height > 0 ? Double(width) / Double(height) : 0 }
        /// Bits per sample, from the pixel format (`yuv420p10le` → 10).
        package var bitDepth: Int { PixelFormat.bitDepth(pixelFormat) }
        /// PQ (HDR10, Dolby Vision 8.1) or HLG (8.4): the transfer is what makes a clip HDR.
        package var hdr: Colour.HDR? { colour?.hdr }
    }
    package struct Audio: Sendable, Codable, Equatable {
        package var codec: String
        package var sampleRate: Int
        package var channels: Int
        package var channelLayout: String? = nil
    }

    /// The four colour tags a rendition must carry on (a transcode re-tags them when it changes them).
    package struct Colour: Sendable, Codable, Equatable, Hashable {
        package enum HDR: String, Sendable, Codable { case pq, hlg }
        package var primaries: String?
        package var transfer: String?
        package var matrix: String?
        package var range: String?
        package init(primaries: String?, transfer: String?, matrix: String?, range: String?) {
            self.primaries = primaries
            self.transfer = transfer
            self.matrix = matrix
            self.range = range
        }
        package var hdr: HDR? {
            switch transfer {
            case "smpte2084": .pq
            case "arib-std-b67": .hlg
            default: nil
            }
        }
        package var isEmpty: Bool { primaries == nil && transfer == nil && matrix == nil && range == nil }
        /// What an SDR rendition of HD content is tagged with.
        package static let bt709 = Colour(primaries: "bt709", transfer: "bt709", matrix: "bt709", range: "tv")
    }

    package var formatName: String
    /// mp4, mov, webm, mkv … (from the format and the file's extension).
    package var container: String
    package var durationS: Double
    package var sizeBytes: Int64
    package var bitRate: Int?
    package var video: Video?
    package var audio: Audio?
    /// nil for containers where it does not apply.
    package var moovFirst: Bool?
}

/// Facts read off an ffmpeg pixel format name.
package enum PixelFormat {
    /// `yuv420p10le` → 10, `p010le` → 10, `yuv420p` → 8.
    package static func bitDepth(_ name: String) -> Int {
        for depth in [16, 14, 12, 10, 9] where name.contains("p\(depth)") || name.hasPrefix("p0\(depth)") || name.hasPrefix("p\(depth)") { return depth }
        return 8
    }

    /// `yuv422p10le` → "4:2:2"; nil when not a planar YUV format.
    package static func chroma(_ name: String) -> String? {
        if name.hasPrefix("yuv420") || name.hasPrefix("yuvj420") || name.hasPrefix("nv12") || name.hasPrefix("p010") { return "4:2:0" }
        if name.hasPrefix("yuv422") || name.hasPrefix("yuvj422") { return "4:2:2" }
        if name.hasPrefix("yuv444") || name.hasPrefix("yuvj444") || name.hasPrefix("yuva444") { return "4:4:4" }
        return nil
    }
}
