/// The `videos.insert` body: `{snippet:{…}, status:{…}}`.
struct YouTubeVideoMetadata: Codable, Sendable {
    struct Snippet: Codable, Sendable {
        var title: String?
        var description: String?
        var tags: [String]?
        var categoryId: String?
    }
    struct Status: Codable, Sendable {
        var privacyStatus: String?
        var publishAt: String?
        var selfDeclaredMadeForKids: Bool?
        var containsSyntheticMedia: Bool?
    }
    var snippet: Snippet?
    var status: Status?
}
