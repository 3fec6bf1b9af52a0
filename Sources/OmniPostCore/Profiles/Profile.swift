/// One platform's media and text limits, read from profiles.yaml (never hard-coded in `if`s or in an adapter).
///
/// Two halves, kept apart on purpose: what the platform **accepts** (the top-level media fields — a
/// clip within all of them is sent byte-identical) and what it **recommends** (`recommends`: what a
/// conversion produces when one is needed). A recommendation is never a reason to convert.
package struct Profile: Sendable, Codable, Equatable {
    package struct Range: Sendable, Codable, Equatable {
        package var min: Double
        package var max: Double
        package func contains(_ v: Double) -> Bool { v >= min - 1e-9 && v <= max + 1e-9 }
    }
    package struct Audio: Sendable, Codable, Equatable {
        package var sampleRates: [Int]
        package var maxChannels: Int
        package var required: Bool
    }
    /// What a conversion produces for this platform: its frame box, encoder settings and audio.
    package struct Recommendation: Sendable, Codable, Equatable {
        /// The frame box a transcode scales into (portrait clips get it turned), never upscaling.
        package var width: Int
        package var height: Int
        package var fpsMax: Double
        /// Container for a rendition whose container has to change.
        package var container: String = "mp4"
        /// Codec of an SDR transcode, and of one that keeps HDR (10-bit).
        package var videoCodec: String = "h264"
        package var hdrVideoCodec: String = "hevc"
        package var crf: Int = 20
        package var preset: String = "veryfast"
        /// Peak video rate and decoder buffer of a transcode (VBV), kb/s.
        package var maxrateKbps: Int = 20000
        package var bufsizeKbps: Int = 40000
        /// Keyframe interval, seconds (closed GOPs).
        package var gopSeconds: Double = 2
        package var audioCodec: String = "aac"
        package var audioKbps: Int = 192
        package var audioRate: Int = 48000
        package var audioChannels: Int = 2
        /// The SSIM a transcode of a test pattern must reach against its source (held by the test suite and the bench).
        package var ssimFloor: Double = 0.95
    }

    package var name: String
    package var platform: String
    // What the platform accepts as is.
    package var containers: [String]
    package var videoCodecs: [String]
    package var audioCodecs: [String]
    package var pixelFormats: [String]
    /// Codecs in which the platform takes HDR (PQ/HLG) and shows it as HDR (`*`: any); empty: HDR is tone-mapped to SDR.
    package var hdrCodecs: [String] = []
    package func takesHDR(in codec: String) -> Bool { hdrCodecs.contains("*") || hdrCodecs.contains(codec) }
    package var width: Range
    package var height: Range
    package var aspect: Range
    package var fps: Range
    package var durationS: Range
    package var maxBytes: Int64
    /// A video bitrate the platform enforces; nil where it has none (YouTube, TikTok).
    package var maxVideoKbps: Int?
    package var audio: Audio
    package var moovFirst: Bool
    /// The platform takes progressive scan only (Instagram's Reels spec says so): an interlaced clip is
    /// deinterlaced for it even when nothing else would be converted.
    package var progressiveOnly: Bool = false
    // What a conversion produces.
    package var recommends: Recommendation
    /// Text limits with how each counts, and how a caption is composed (`text:`).
    package var text: TextRules
}
