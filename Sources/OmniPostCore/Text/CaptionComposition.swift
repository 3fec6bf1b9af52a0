/// How a platform without a title makes its one text (`caption: {from, separator, tags}` in a profile):
/// the parts that are not empty, `separator` between them, then the tags as `tags` says. Validation
/// counts this text and the adapter sends this text, so the two can never disagree.
package struct CaptionComposition: Sendable, Codable, Equatable {
    package enum Part: String, Sendable, Codable, CaseIterable { case title, description }
    package enum Tags: String, Sendable, Codable, CaseIterable {
        /// Tags are not part of the caption.
        case none
        /// Every tag as a hashtag the text does not already carry, spaces dropped (a hashtag is one word).
        case hashtags
        /// Every tag as a hashtag, even one the text has (LinkedIn: the text's `#` is escaped, so it is no hashtag).
        case allHashtags = "all_hashtags"
        /// The first tag as the post's topic, after a space, when the text has no `#` (Threads).
        case topic
    }
    package var from: [Part] = [.title, .description]
    package var separator = "\n\n"
    package var tags: Tags = .none

    package init(from: [Part] = [.title, .description], separator: String = "\n\n", tags: Tags = .none) {
        self.from = from
        self.separator = separator
        self.tags = tags
    }

    /// The parts that go into the caption, in order, the empty ones left out.
    package func parts(title: String, description: String) -> [String] {
        from.map { $0 == .title ? title : description }.filter { !$0.isEmpty }
    }

    /// The tags the caption adds, as words without `#` (spaces dropped), given the body they follow.
    package func hashtagNames(_ tags: [String], body: String) -> [String] {
        let names = tags.map { String($0.drop { $0 == "#" }).replacingOccurrences(of: " ", with: "") }.filter { !$0.isEmpty }
        switch self.tags {
        case .none: return []
        case .hashtags: return names.filter { !body.contains("#" + $0) }
        case .allHashtags: return names
        case .topic: return body.contains("#") ? [] : Array(names.prefix(1))
        }
    }

    /// The caption as the platform is sent it.
    package func compose(title: String, description: String, tags: [String]) -> String {
        var body = parts(title: title, description: description).joined(separator: separator)
        let hashtags = hashtagNames(tags, body: body).map { "#" + $0 }
        guard !hashtags.isEmpty else { return body }
        if !body.isEmpty { body += self.tags == .topic ? " " : separator }
        return body + hashtags.joined(separator: " ")
    }

    /// What the caption is made of, for messages: "title, description and hashtags".
    package var madeOf: String {
        var items = from.map(\.rawValue)
        switch tags {
        case .none: break
        case .hashtags, .allHashtags: items.append("hashtags")
        case .topic: items.append("topic tag")
        }
        guard items.count > 1 else { return items.first ?? "" }
        return items.dropLast().joined(separator: ", ") + " and " + items.last!
    }
}
