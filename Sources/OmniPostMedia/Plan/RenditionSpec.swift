import Crypto
import Foundation

/// Exactly what a conversion produces. Targets of one drop whose specs are equal share one ffmpeg run.
public struct RenditionSpec: Sendable, Codable, Hashable {
    public enum Kind: String, Sendable, Codable { case remux, transcode }
    public enum Geometry: String, Sendable, Codable {
        /// Scale keeping the aspect ratio.
        case scale
        /// Scale into the box and pad (letterbox/pillarbox).
        case pad
        /// Scale to cover the box and crop the overflow.
        case crop
    }
    public var kind: Kind
    public var width: Int
    public var height: Int
    public var geometry: Geometry
    public var fps: Double?
    public var maxrateKbps: Int
    public var crf: Int
    public var preset: String
    /// Add a silent stereo track where the target requires audio and the clip has none.
    public var addSilentAudio: Bool
    public var hasAudio: Bool
    /// Non-square source pixels: square them before scaling, so the picture keeps its shape.
    public var squarePixels: Bool = false
    /// Rendered from a slideshow's images rather than converted from a clip.
    public var slideshow: Bool = false
    /// Loudness-normalise the audio (EBU R128, -14 LUFS as the platforms play back).
    public var loudnorm: Bool = false

    /// A short stable name for the rendition file and for sharing between targets.
    public var key: String {
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
