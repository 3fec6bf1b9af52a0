/// What ffprobe says about a clip, reduced to the facts the planner checks. Stored in the ledger as JSON.
public struct MediaInfo: Sendable, Codable, Equatable {
    public struct Video: Sendable, Codable, Equatable {
        public var codec: String
        /// Display size: coded size with the pixel aspect and rotation applied (a phone's 1920×1080
        /// rotated 90° is 1080×1920; 720×576 with 16:15 pixels is 768×576).
        public var width: Int
        public var height: Int
        public var pixelFormat: String
        public var fps: Double
        public var rotation: Int
        public var bitRate: Int?
        /// Sample (pixel) aspect ratio when not square, e.g. 1.333 for anamorphic DV; nil = square.
        public var sar: Double? = nil
        /// The codec's profile as ffprobe names it ("Main 10", "High 4:2:2", "HQ").
        public var profile: String? = nil
        /// Colour tags as ffprobe names them (`bt2020`, `smpte2084`, `bt2020nc`, `tv`); nil = untagged.
        public var colour: Colour? = nil
        /// Dolby Vision profile when the stream carries a configuration record (8 from phones).
        public var dolbyVision: Int? = nil
        /// The frame rate varies (phones): the average and the stream's base rate disagree.
        public var variableFrameRate: Bool? = nil
        /// ffprobe's field order: `progressive`, or `tt`/`bb`/`tb`/`bt` for interlaced video (1080i broadcast,
        /// camcorders); nil when the stream does not say.
        public var fieldOrder: String? = nil
        /// Two fields per frame, taken at different instants: scaling such a frame blends them into a double image.
        public var interlaced: Bool { ["tt", "bb", "tb", "bt"].contains(fieldOrder ?? "") }
        public var aspect: Double { height > 0 ? Double(width) / Double(height) : 0 }
        /// Bits per sample, from the pixel format (`yuv420p10le` → 10).
        public var bitDepth: Int { PixelFormat.bitDepth(pixelFormat) }
        /// PQ (HDR10, Dolby Vision 8.1) or HLG (8.4): the transfer is what makes a clip HDR.
        public var hdr: Colour.HDR? { colour?.hdr }
    }
    public struct Audio: Sendable, Codable, Equatable {
        public var codec: String
        public var sampleRate: Int
        public var channels: Int
        public var channelLayout: String? = nil
    }

    /// The four colour tags a rendition must carry on (a transcode re-tags them when it changes them).
    public struct Colour: Sendable, Codable, Equatable, Hashable {
        public enum HDR: String, Sendable, Codable { case pq, hlg }
        public var primaries: String?
        public var transfer: String?
        public var matrix: String?
        public var range: String?
        public init(primaries: String?, transfer: String?, matrix: String?, range: String?) {
            self.primaries = primaries
            self.transfer = transfer
            self.matrix = matrix
            self.range = range
        }
        public var hdr: HDR? {
            switch transfer {
            case "smpte2084": .pq
            case "arib-std-b67": .hlg
            default: nil
            }
        }
        public var isEmpty: Bool { primaries == nil && transfer == nil && matrix == nil && range == nil }
        /// What an SDR rendition of HD content is tagged with.
        public static let bt709 = Colour(primaries: "bt709", transfer: "bt709", matrix: "bt709", range: "tv")
    }

    public var formatName: String
    /// mp4, mov, webm, mkv … (from the format and the file's extension).
    public var container: String
    public var durationS: Double
    public var sizeBytes: Int64
    public var bitRate: Int?
    public var video: Video?
    public var audio: Audio?
    /// nil for containers where it does not apply.
    public var moovFirst: Bool?
}

/// Facts read off an ffmpeg pixel format name.
public enum PixelFormat {
    /// `yuv420p10le` → 10, `p010le` → 10, `yuv420p` → 8.
    public static func bitDepth(_ name: String) -> Int {
        for depth in [16, 14, 12, 10, 9] where name.contains("p\(depth)") || name.hasPrefix("p0\(depth)") || name.hasPrefix("p\(depth)") { return depth }
        return 8
    }

    /// `yuv422p10le` → "4:2:2"; nil when not a planar YUV format.
    public static func chroma(_ name: String) -> String? {
        if name.hasPrefix("yuv420") || name.hasPrefix("yuvj420") || name.hasPrefix("nv12") || name.hasPrefix("p010") { return "4:2:0" }
        if name.hasPrefix("yuv422") || name.hasPrefix("yuvj422") { return "4:2:2" }
        if name.hasPrefix("yuv444") || name.hasPrefix("yuvj444") || name.hasPrefix("yuva444") { return "4:4:4" }
        return nil
    }
}
