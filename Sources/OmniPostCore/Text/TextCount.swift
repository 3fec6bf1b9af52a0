/// How a platform counts a text against its limit. The limit and the choice of counter are profile data
/// (`counts:` in profiles.yaml); each counter is code, picked by its name here.
package enum TextCount: String, Sendable, Codable, CaseIterable {
    /// User-perceived characters (extended grapheme clusters): 👨‍👩‍👧 is 1.
    case graphemes
    /// UTF-16 code units, as JavaScript's `length` (TikTok): 👍 is 2.
    case utf16
    /// Bytes of UTF-8 (YouTube's description, Bluesky's second limit): 👍 is 4.
    case bytes
    /// Unicode code points: 👍🏽 is 2.
    case unicodeScalars = "unicode_scalars"
    /// X's weighted length (twitter-text): links 23, most non-Latin characters and emoji 2.
    case xWeighted = "x_weighted"
    /// A character 1, an emoji as many as its UTF-8 bytes (Threads).
    case emojiBytes = "emoji_bytes"

    package func count(_ text: String) -> Int {
        switch self {
        case .graphemes: text.count
        case .utf16: text.utf16.count
        case .bytes: text.utf8.count
        case .unicodeScalars: text.unicodeScalars.count
        case .xWeighted: XText.weightedLength(text)
        case .emojiBytes: ThreadsText.length(text)
        }
    }

    /// What a count of this kind is called in a message: "281 characters", "2300 UTF-16 units".
    package var unit: String {
        switch self {
        case .graphemes: "characters"
        case .utf16: "UTF-16 units"
        case .bytes: "bytes"
        case .unicodeScalars: "code points"
        case .xWeighted: "of X's weighted characters"
        case .emojiBytes: "with each emoji as its UTF-8 bytes"
        }
    }

    /// How the count was made, for a reader who counted otherwise; nil where the unit says it all.
    package var explanation: String? {
        switch self {
        case .xWeighted: "links count 23, most non-Latin characters and emoji 2"
        case .emojiBytes: "each emoji counts as its UTF-8 bytes: 👍 is 4"
        case .bytes: "UTF-8: most non-Latin characters are 2 or 3 bytes, an emoji 4 or more"
        default: nil
        }
    }

    /// "is 281 characters", "counts 281 of X's weighted characters".
    func phrase(_ n: Int) -> String {
        switch self {
        case .xWeighted, .emojiBytes: "counts \(n) \(unit)"
        default: "is \(n) \(unit)"
        }
    }

    /// The same count as a second measure beside the first: "in 150 graphemes".
    var shortUnit: String {
        switch self {
        case .graphemes: "graphemes"
        case .xWeighted: "X-weighted characters"
        case .emojiBytes: "as Threads counts"
        default: unit
        }
    }
}
