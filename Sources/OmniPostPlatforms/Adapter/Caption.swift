/// One text field for platforms that have no title (X, Instagram, Threads, a Facebook reel's
/// description): the parts that are not empty, a blank line between them, then the tags as hashtags —
/// those the text does not already carry, spaces dropped (a hashtag is one word).
enum Caption {
    static func compose(_ parts: [String], tags: [String], limit: Int? = nil) -> String {
        var body = parts.filter { !$0.isEmpty }.joined(separator: "\n\n")
        var hashtags = tags.map { $0.hasPrefix("#") ? $0 : "#" + $0.replacingOccurrences(of: " ", with: "") }.filter { !body.contains($0) }
        if let limit { hashtags = Array(hashtags.prefix(limit)) }
        if !hashtags.isEmpty { body += (body.isEmpty ? "" : "\n\n") + hashtags.joined(separator: " ") }
        return body
    }
}
