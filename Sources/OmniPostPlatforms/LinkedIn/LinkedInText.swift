/// LinkedIn's "little text format": a post's `commentary` is markup, so its reserved characters must be
/// escaped with a backslash or the API refuses the post (or drops text after them); a hashtag is the
/// template `{hashtag|\#|name}`.
enum LinkedInText {
    static let reserved: Set<Character> = ["\\", "|", "{", "}", "@", "[", "]", "(", ")", "<", ">", "#", "*", "_", "~"]

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            if reserved.contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    static func hashtag(_ tag: String) -> String {
        let name = tag.drop { $0 == "#" }.filter { !$0.isWhitespace }
        return "{hashtag|\\#|\(escape(String(name)))}"
    }

    /// Title, description, then the tags as hashtags: the text as the user wrote it (for limits) and as
    /// LinkedIn takes it (escaped).
    static func commentary(title: String, description: String, tags: [String]) -> (plain: String, markup: String) {
        let parts = [title, description].filter { !$0.isEmpty }
        var plain = parts.joined(separator: "\n\n")
        var markup = parts.map(escape).joined(separator: "\n\n")
        if !tags.isEmpty {
            plain += (plain.isEmpty ? "" : "\n\n") + tags.map { "#" + $0.drop { $0 == "#" } }.joined(separator: " ")
            markup += (markup.isEmpty ? "" : "\n\n") + tags.map(hashtag).joined(separator: " ")
        }
        return (plain, markup)
    }
}
