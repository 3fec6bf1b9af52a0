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
        public var aspect: Double { height > 0 ? Double(width) / Double(height) : 0 }
    }
    public struct Audio: Sendable, Codable, Equatable {
        public var codec: String
        public var sampleRate: Int
        public var channels: Int
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
