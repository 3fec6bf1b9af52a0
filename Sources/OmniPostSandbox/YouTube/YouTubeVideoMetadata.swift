/// The `videos.insert` body: `{snippet:{…}, status:{…}}` — every field our adapter (and Google's client
/// libraries, given a typical body) sends, so a dry run shows what arrived.
struct YouTubeVideoMetadata: Codable, Sendable, Equatable {
    struct Snippet: Codable, Sendable, Equatable {
        var title: String?
        var description: String?
        var tags: [String]?
        var categoryId: String?
        var defaultLanguage: String?
        var defaultAudioLanguage: String?
    }
    struct Status: Codable, Sendable, Equatable {
        var privacyStatus: String?
        var publishAt: String?
        var selfDeclaredMadeForKids: Bool?
        var containsSyntheticMedia: Bool?
        var embeddable: Bool?
        var license: String?
        var publicStatsViewable: Bool?
    }
    var snippet: Snippet?
    var status: Status?

    /// Only the parts named in `part=` are written, as YouTube does: the rest of the body is ignored.
    func limited(to parts: Set<String>) -> YouTubeVideoMetadata {
        YouTubeVideoMetadata(snippet: parts.contains("snippet") ? snippet : nil, status: parts.contains("status") ? status : nil)
    }

    /// The `part` names videos.insert knows.
    static let knownParts: Set<String> = [
        "snippet", "status", "contentDetails", "fileDetails", "id", "liveStreamingDetails", "localizations", "player",
        "processingDetails", "recordingDetails", "statistics", "suggestions", "topicDetails"
    ]

    /// Categories a video can be put in (videoCategories.list, regionCode=US, `assignable: true`).
    /// An unknown or unassignable id is `invalidCategoryId`, as YouTube answers it.
    static let assignableCategories: Set<String> = ["1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28", "29"]
    /// What YouTube files a video under when the request names no category.
    static let defaultCategory = "22"
}
