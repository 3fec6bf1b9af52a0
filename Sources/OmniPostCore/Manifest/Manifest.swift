import Foundation

/// A sidecar manifest: what to publish for one clip. YAML and JSON share this model.
public struct Manifest: Sendable, Codable, Equatable {
    public var clip: String?
    public var title: Field<String>?
    public var description: Field<String>?
    public var tags: [String]?
    public var privacy: Privacy?
    /// Where `privacy:` was written: a target that has no such privacy is answered there.
    public var privacyLocation: SourceLocation?
    public var publishAt: Date?
    /// `publish_at: next_slot`: the first free slot of the pipeline's schedule.
    public var publishAtNextSlot = false
    public var publishAtLocation: SourceLocation?
    /// Higher goes first when uploads queue (high = 10, normal = 0, low = -10, or a number).
    public var priority: Int = 0
    public var targets: [String]?
    /// Where `targets:` was written: a target the pipeline does not have is answered there.
    public var targetsLocation: SourceLocation?
    public var overrides: [String: [String: String]] = [:]
    /// Where each of `overrides:` was written (`youtube`, `youtube.category_id`): the platforms' rules
    /// (`PlatformRules.problems`) answer a key or value they do not take there.
    public var overrideLocations: [String: SourceLocation]?
    public var coverAtMs: Int?
    public var coverFile: String?
    public var sha256: String?
    public var republish: Bool = false
    /// Free-form values for templates (`{video_id}`, `{score}` …), from `fields:` or a clipper manifest entry.
    public var fields: [String: String] = [:]
    /// Set when the sidecar is a slideshow (`images:`) instead of a clip's metadata.
    public var slideshow: Slideshow?

    public init() {}

    public static let priorityWords = ["high": 10, "normal": 0, "low": -10]
}

/// A text value with where it was written, so a template error can point at the right line.
public struct Field<Value: Sendable & Codable & Equatable>: Sendable, Codable, Equatable {
    public var value: Value
    public var location: SourceLocation?
    public init(_ value: Value, at location: SourceLocation? = nil) {
        self.value = value
        self.location = location
    }
}

public enum Privacy: String, Sendable, Codable, CaseIterable {
    case `public`, unlisted, `private`, followers, friends
}

/// What a pipeline supplies when a sidecar leaves a field out (or when there is no sidecar at all).
public struct ManifestDefaults: Sendable {
    public var title: Field<String>?
    public var description: Field<String>?
    public var tags: [String]?
    public var privacy: Privacy?
    public var privacyLocation: SourceLocation?
    /// Where `defaults:` is, for a problem of the defaults as a whole.
    public var location: SourceLocation?
    public init() {}

    public static let keys = ["title", "description", "tags", "privacy"]

    static func parse(_ node: DocNode) throws -> ManifestDefaults {
        let m = try node.mapping(allowed: keys)
        var d = ManifestDefaults()
        if let v = m["title"] { d.title = Field(try v.string(), at: v.location) }
        if let v = m["description"] { d.description = Field(try v.string(), at: v.location) }
        if let v = m["tags"] { d.tags = try v.stringList() }
        if let v = m["privacy"] {
            d.privacy = Privacy(rawValue: try v.oneOf(Privacy.allCases.map(\.rawValue)))
            d.privacyLocation = v.location
        }
        d.location = node.location
        return d
    }
}
