import OmniPostCore

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

    /// The post's caption as its profile composes it (title, description, then every tag as a hashtag),
    /// written as LinkedIn takes it: the text escaped, each hashtag a template. Its limit is counted on the
    /// caption as written (`PublishMetadata.caption`), which this markup shows.
    static func commentary(_ m: PublishMetadata) -> String {
        let compose = m.text?.caption?.compose ?? BundledText.rules("linkedin").caption?.compose ?? CaptionComposition()
        let parts = compose.parts(title: m.title, description: m.description)
        var markup = parts.map(escape).joined(separator: compose.separator)
        let tags = compose.hashtagNames(m.tags, body: parts.joined(separator: compose.separator))
        if !tags.isEmpty { markup += (markup.isEmpty ? "" : compose.separator) + tags.map(hashtag).joined(separator: " ") }
        return markup
    }
}
