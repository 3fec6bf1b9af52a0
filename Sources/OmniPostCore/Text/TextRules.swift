/// A platform's text rules, as its profile writes them (`text:` in profiles.yaml): each field's limits
/// with how each is counted, the characters it may not hold, and how the caption of a platform without
/// a title is composed. Validation and the adapter both read these — one copy — and a delivery carries
/// the rules it was validated with (`PublishMetadata.text`), so a pipeline's profile override is what the
/// adapter enforces too.
package struct TextRules: Sendable, Codable, Equatable {
    /// The profile they come from, named in messages ("x allows 280").
    package var profile: String
    package var title: FieldRule?
    package var description: FieldRule?
    /// The one text a platform without a title shows (X, Instagram, Threads, TikTok…): composed of the
    /// title, description and tags as `compose` says, and counted as a whole.
    package var caption: CaptionRule?
    package var tags: TagsRule?
    /// Chapters written into the description (`0:00 Intro` lines), with the rules the platform shows
    /// them by; nil: the platform shows none, and a sidecar's `chapters:` is not written for it.
    package var chapters: ChapterRule?
    /// A first comment under the post (`first_comment:`), counted as the platform counts a comment; nil:
    /// the profile names no limit for one.
    package var comment: FieldRule?

    package init(profile: String, title: FieldRule? = nil, description: FieldRule? = nil, caption: CaptionRule? = nil, tags: TagsRule? = nil) {
        self.profile = profile
        self.title = title
        self.description = description
        self.caption = caption
        self.tags = tags
    }
}

/// At most `max`, counted as `counts` says.
package struct TextLimit: Sendable, Codable, Equatable {
    package var max: Int
    package var counts: TextCount
    package init(max: Int, counts: TextCount) {
        self.max = max
        self.counts = counts
    }
}

/// The rules of one text field (a title, a description).
package struct FieldRule: Sendable, Codable, Equatable {
    /// Every limit must hold (Bluesky: 300 graphemes and 3000 bytes).
    package var limits: [TextLimit] = []
    /// Characters the platform refuses in it (YouTube: `<>`).
    package var forbidden: String?
    /// An empty one is refused (a YouTube or Reddit title).
    package var required = false
    package init(limits: [TextLimit] = [], forbidden: String? = nil, required: Bool = false) {
        self.limits = limits
        self.forbidden = forbidden
        self.required = required
    }
}

/// The caption: how it is made, its limits, and how many hashtags and @mentions it may carry.
package struct CaptionRule: Sendable, Codable, Equatable {
    package var limits: [TextLimit]
    package var compose: CaptionComposition
    package var maxHashtags: Int?
    package var maxMentions: Int?
    package init(limits: [TextLimit], compose: CaptionComposition = CaptionComposition(), maxHashtags: Int? = nil, maxMentions: Int? = nil) {
        self.limits = limits
        self.compose = compose
        self.maxHashtags = maxHashtags
        self.maxMentions = maxMentions
    }
}

/// Limits on a post's tags as a whole.
package struct TagsRule: Sendable, Codable, Equatable {
    /// All tags together, counted as YouTube counts them: each tag's characters, 2 more for one with a
    /// space (it is quoted), and a comma between tags.
    package var maxTotal: Int?
    /// How many tags one post may have (Vimeo takes 20 in one request).
    package var maxCount: Int?
    /// How many a post must have (Bilibili's archive needs one).
    package var minCount: Int?
    package init(maxTotal: Int? = nil, maxCount: Int? = nil, minCount: Int? = nil) {
        self.maxTotal = maxTotal
        self.maxCount = maxCount
        self.minCount = minCount
    }

    /// The tags' length as YouTube counts it.
    package static func total(_ tags: [String]) -> Int {
        tags.reduce(0) { $0 + $1.count + ($1.contains(" ") ? 2 : 0) } + max(0, tags.count - 1)
    }
}
