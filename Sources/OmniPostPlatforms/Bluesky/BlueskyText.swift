import Foundation

/// A post's rich text as Bluesky takes it: facets — links, mentions and hashtags — located by UTF-8 byte
/// offsets (docs.bsky.app/docs/advanced-guides/post-richtext). Its limits (the `app.bsky.feed.post`
/// lexicon's 300 graphemes and 3000 bytes) are the profile's.
enum BlueskyText {
    struct Facet: Equatable {
        enum Kind: Equatable { case link(String), mention(handle: String), tag(String) }
        var kind: Kind
        var byteStart: Int
        var byteEnd: Int
    }

    /// Links (`http(s)://…`), mentions (`@handle.domain`) and hashtags (`#word`, not only digits), with
    /// trailing punctuation left out of each, as Bluesky's own detection does.
    static func facets(_ text: String) -> [Facet] {
        var out: [Facet] = []
        let ns = text as NSString
        func scan(_ pattern: String, _ make: (String) -> Facet.Kind?) {
            guard let re = try? NSRegularExpression(pattern: pattern) else { return }
            for m in re.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                let r = m.range(at: 1)
                let word = trimmed(ns.substring(with: r), link: pattern.contains("https?"))
                guard !word.isEmpty, let kind = make(word), let start = Range(NSRange(location: r.location, length: 0), in: text)?.lowerBound else { continue }
                let byteStart = text[..<start].utf8.count
                out.append(Facet(kind: kind, byteStart: byteStart, byteEnd: byteStart + word.utf8.count))
            }
        }
        scan(#"(?:^|\s|\()(https?://[^\s]+)"#) { .link($0) }
        scan(#"(?:^|\s|\()(@[a-zA-Z0-9][a-zA-Z0-9.-]*\.[a-zA-Z][a-zA-Z0-9-]*)"#) { .mention(handle: String($0.dropFirst())) }
        scan(#"(?:^|\s)(#[^\s#]+)"#) { w in
            let tag = String(w.dropFirst())
            return tag.isEmpty || tag.allSatisfy(\.isNumber) || tag.count > 64 ? nil : .tag(tag)
        }
        return out.sorted { $0.byteStart < $1.byteStart }
    }

    /// A detected word without the punctuation that ends the sentence around it. A link as the official
    /// SDK trims it (@atproto/api `detectFacets`): one trailing `.,;:!?`, then a `)` only when the URL
    /// opened none — so `https://en.wikipedia.org/wiki/Swift_(programming_language)` keeps its bracket.
    static func trimmed(_ word: String, link: Bool) -> String {
        var word = word
        guard link else {
            while let last = word.last, ".,;:!?)'\"".contains(last) { word.removeLast() }
            return word
        }
        if let last = word.last, ".,;:!?".contains(last) { word.removeLast() }
        if word.last == ")", !word.contains("(") { word.removeLast() }
        return word
    }
}
