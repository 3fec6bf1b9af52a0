import Foundation

/// A sidecar manifest: what to publish for one clip. YAML and JSON share this model.
package struct Manifest: Sendable, Codable, Equatable {
    package var clip: String?
    package var title: Field<String>?
    package var description: Field<String>?
    package var tags: [String]?
    package var privacy: Privacy?
    /// Where `privacy:` was written: a target that has no such privacy is answered there.
    package var privacyLocation: SourceLocation?
    package var publishAt: Date?
    /// `publish_at: next_slot`: the first free slot of the pipeline's schedule.
    package var publishAtNextSlot = false
    package var publishAtLocation: SourceLocation?
    /// Higher goes first when uploads queue (high = 10, normal = 0, low = -10, or a number).
    package var priority: Int = 0
    package var targets: [String]?
    /// Where `targets:` was written: a target the pipeline does not have is answered there.
    package var targetsLocation: SourceLocation?
    package var overrides: [String: [String: String]] = [:]
    /// Where each of `overrides:` was written (`youtube`, `youtube.category_id`): the platforms' rules
    /// (`PlatformRules.problems`) answer a key or value they do not take there.
    package var overrideLocations: [String: SourceLocation]?
    package var coverAtMs: Int?
    package var coverFile: String?
    package var sha256: String?
    package var republish: Bool = false
    /// `approval: required`: a person approves this drop before anything of it is sent.
    package var approvalRequired: Bool? = nil
    /// Free-form values for templates (`{video_id}`, `{score}` …), from `fields:` or a clipper manifest entry.
    package var fields: [String: String] = [:]
    /// Set when the sidecar is a slideshow (`images:`) instead of a clip's metadata.
    package var slideshow: Slideshow?
    /// Which fields a language model writes (`ai:`); nil: the pipeline's default.
    package var ai: AIAsk?
    /// The clip's chapters, for platforms that show them from the description (YouTube).
    package var chapters: [Chapter]?
    package var chaptersLocation: SourceLocation?
    /// Subtitle tracks the sidecar lists (`subtitles:`), their files relative to the sidecar's folder;
    /// tracks beside the clip (`clip.en.srt`) are found without it.
    package var subtitles: [SubtitleTrack]?
    /// Burn the first subtitle track into the picture for targets that cannot take a track (`burn_subtitles: true`).
    package var burnSubtitles: Bool?
    /// Playlists the post is added to where the platform has them (YouTube), by id or by name.
    package var playlists: [PlaylistRef]?
    /// A comment posted under the post right after it, where the platform takes one (`first_comment:`).
    package var firstComment: Field<String>?

    package init() {}

    package static let priorityWords = ["high": 10, "normal": 0, "low": -10]
}

/// A text value with where it was written, so a template error can point at the right line.
package struct Field<Value: Sendable & Codable & Equatable>: Sendable, Codable, Equatable {
    package var value: Value
    package var location: SourceLocation?
    package init(_ value: Value, at location: SourceLocation? = nil) {
        self.value = value
        self.location = location
    }
}

package enum Privacy: String, Sendable, Codable, CaseIterable {
    case `public`, unlisted, `private`, followers, friends
}

/// What a pipeline supplies when a sidecar leaves a field out (or when there is no sidecar at all).
package struct ManifestDefaults: Sendable {
    package var title: Field<String>?
    package var description: Field<String>?
    package var tags: [String]?
    package var privacy: Privacy?
    package var privacyLocation: SourceLocation?
    /// Which fields a language model writes when a sidecar does not say (`ai:`).
    package var ai: AIAsk?
    /// Where `defaults:` is, for a problem of the defaults as a whole.
    package var location: SourceLocation?
    package init() {}

    package static let keys = ["title", "description", "tags", "privacy", "ai"]

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
        if let v = m["ai"] { d.ai = try AIAsk.parse(v) }
        d.location = node.location
        return d
    }
}
