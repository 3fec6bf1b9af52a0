import Crypto
import Foundation

/// Exactly what a conversion produces, stream by stream. Targets of one drop whose specs are equal
/// share one ffmpeg run. (Fields added after the first release are optional, so a spec stored in the
/// ledger by an older version still reads.)
package struct RenditionSpec: Sendable, Codable, Hashable {
    /// `remux`: every stream copied into another container (or moov moved to the front); `audio`: the
    /// video copied, the audio re-encoded or a silent track added; `transcode`: the video re-encoded.
    package enum Kind: String, Sendable, Codable { case remux, audio, transcode }
    package enum Geometry: String, Sendable, Codable {
        /// Scale keeping the aspect ratio.
        case scale
        /// Scale into the box and pad (letterbox/pillarbox).
        case pad
        /// Scale to cover the box and crop the overflow.
        case crop
    }
    package var kind: Kind
    package var width: Int
    package var height: Int
    package var geometry: Geometry
    package var fps: Double?
    package var maxrateKbps: Int
    package var crf: Int
    package var preset: String
    /// Add a silent stereo track where the target requires audio and the clip has none.
    package var addSilentAudio: Bool
    package var hasAudio: Bool
    /// Non-square source pixels: square them before scaling, so the picture keeps its shape.
    package var squarePixels: Bool = false
    /// Rendered from a slideshow's images rather than converted from a clip.
    package var slideshow: Bool = false
    /// Loudness-normalise the audio (EBU R128, -14 LUFS as the platforms play back).
    package var loudnorm: Bool = false
    /// Output container (`mp4`, `mov`, `webm`, `mkv`); nil: mp4.
    package var container: String? = nil
    /// Video encoder's codec for a transcode (`h264`, `hevc`); nil: h264.
    package var videoCodec: String? = nil
    /// Output pixel format of a transcode; nil: yuv420p.
    package var pixelFormat: String? = nil
    /// Colour tags written on the output's video stream (what it is, after any conversion).
    package var colour: MediaInfo.Colour? = nil
    /// Tone-map from this HDR source (its tags in `sourceColour`) to SDR BT.709.
    package var toneMapFrom: MediaInfo.Colour? = nil
    /// Decoder buffer, kb/s (nil: twice maxrate) and keyframe interval in frames (nil: the encoder's).
    package var bufsizeKbps: Int? = nil
    package var gopFrames: Int? = nil
    /// The platform enforces `maxrateKbps` as an average: the encoder's buffer starts nearly empty, so a
    /// short clip cannot spend a whole buffer above the cap in its first second.
    package var strictMaxrate: Bool? = nil
    /// Deinterlace first (`bwdif`, one frame per frame): the source is interlaced and its frames are
    /// re-encoded — scaled, or sent to a platform that takes progressive scan only.
    package var deinterlace: Bool? = nil
    /// Copy the source's audio stream as it is.
    package var audioCopy: Bool? = nil
    /// A re-encoded audio stream: codec, kb/s, sample rate, channels (nil: AAC 128k 48 kHz stereo).
    package var audioCodec: String? = nil
    package var audioKbps: Int? = nil
    package var audioRate: Int? = nil
    package var audioChannels: Int? = nil
    /// A subtitle file (the validated copy in the drop's work folder) burned into the picture, for a
    /// target that takes no subtitle track and was asked to (`burn_subtitles: true`).
    package var burnSubtitles: String? = nil

    package var fileExtension: String { container ?? "mp4" }

    /// A short stable name for the rendition file and for sharing between targets.
    package var key: String {
        let data = try! JSONEncoder.sorted.encode(self)
        return String(SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined().prefix(12))
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
