/// One platform's media and text limits, read from profiles.yaml (never hard-coded in `if`s or in an adapter).
///
/// Two halves, kept apart on purpose: what the platform **accepts** (the top-level media fields — a
/// clip within all of them is sent byte-identical) and what it **recommends** (`recommends`: what a
/// conversion produces when one is needed). A recommendation is never a reason to convert.
public struct Profile: Sendable, Codable, Equatable {
    public struct Range: Sendable, Codable, Equatable {
        public var min: Double
        public var max: Double
        public func contains(_ v: Double) -> Bool { v >= min - 1e-9 && v <= max + 1e-9 }
    }
    public struct Audio: Sendable, Codable, Equatable {
        public var sampleRates: [Int]
        public var maxChannels: Int
        public var required: Bool
    }
    /// What a conversion produces for this platform: its frame box, encoder settings and audio.
    public struct Recommendation: Sendable, Codable, Equatable {
        /// The frame box a transcode scales into (portrait clips get it turned), never upscaling.
        public var width: Int
        public var height: Int
        public var fpsMax: Double
        /// Container for a rendition whose container has to change.
        public var container: String = "mp4"
        /// Codec of an SDR transcode, and of one that keeps HDR (10-bit).
        public var videoCodec: String = "h264"
        public var hdrVideoCodec: String = "hevc"
        public var crf: Int = 20
        public var preset: String = "veryfast"
        /// Peak video rate and decoder buffer of a transcode (VBV), kb/s.
        public var maxrateKbps: Int = 20000
        public var bufsizeKbps: Int = 40000
        /// Keyframe interval, seconds (closed GOPs).
        public var gopSeconds: Double = 2
        public var audioCodec: String = "aac"
        public var audioKbps: Int = 192
        public var audioRate: Int = 48000
        public var audioChannels: Int = 2
        /// The SSIM a transcode of a test pattern must reach against its source (held by the test suite and the bench).
        public var ssimFloor: Double = 0.95
    }

    public var name: String
    public var platform: String
    // What the platform accepts as is.
    public var containers: [String]
    public var videoCodecs: [String]
    public var audioCodecs: [String]
    public var pixelFormats: [String]
    /// Codecs in which the platform takes HDR (PQ/HLG) and shows it as HDR (`*`: any); empty: HDR is tone-mapped to SDR.
    public var hdrCodecs: [String] = []
    public func takesHDR(in codec: String) -> Bool { hdrCodecs.contains("*") || hdrCodecs.contains(codec) }
    public var width: Range
    public var height: Range
    public var aspect: Range
    public var fps: Range
    public var durationS: Range
    public var maxBytes: Int64
    /// A video bitrate the platform enforces; nil where it has none (YouTube, TikTok).
    public var maxVideoKbps: Int?
    public var audio: Audio
    public var moovFirst: Bool
    /// The platform takes progressive scan only (Instagram's Reels spec says so): an interlaced clip is
    /// deinterlaced for it even when nothing else would be converted.
    public var progressiveOnly: Bool = false
    // What a conversion produces.
    public var recommends: Recommendation
    /// Text limits with how each counts, and how a caption is composed (`text:`).
    public var text: TextRules
}
