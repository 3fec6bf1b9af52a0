/// One platform's media and text limits, read from profiles.yaml (never hard-coded in `if`s).
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
    public struct Render: Sendable, Codable, Equatable {
        public var width: Int
        public var height: Int
        public var fpsMax: Double
    }
    public struct Text: Sendable, Codable, Equatable {
        public var titleMax: Int?
        public var titleForbidden: String?
        public var descriptionMaxBytes: Int?
        public var descriptionForbidden: String?
        public var tagsTotalMax: Int?
        public var captionMax: Int?
    }

    public var name: String
    public var platform: String
    public var containers: [String]
    public var videoCodecs: [String]
    public var audioCodecs: [String]
    public var pixelFormats: [String]
    public var width: Range
    public var height: Range
    public var aspect: Range
    public var fps: Range
    public var durationS: Range
    public var maxBytes: Int64
    public var maxVideoKbps: Int
    public var audio: Audio
    public var moovFirst: Bool
    public var render: Render
    public var text: Text
}
