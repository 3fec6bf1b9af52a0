import Foundation
import OmniPostCore
import OmniPostPlatforms

extension CaptionWriter {
    /// What the model is told about one target: the platform, what to write, the profile's limits in
    /// words, the text the templates made (its draft), the sidecar's fields and the clip. Sent as JSON
    /// so nothing in a title can be read as an instruction's end; nothing in it depends on the time, so
    /// the same drop asks the same question.
    struct Brief: Encodable {
        struct Asked: Encodable {
            var title: Bool
            var description: Bool
            var hashtags: Int
            var firstComment: Bool
            enum CodingKeys: String, CodingKey {
                case title, description, hashtags
                case firstComment = "first_comment"
            }
        }
        struct Draft: Encodable {
            var title: String
            var description: String
            var tags: [String]
        }
        struct Clip: Encodable {
            var name: String
            var durationS: Double
            var width: Int
            var height: Int
            enum CodingKeys: String, CodingKey {
                case name, width, height
                case durationS = "duration_s"
            }
        }
        var platform: String
        var asked: Asked
        var limits: [String]
        var draft: Draft
        var fields: [String: String]
        var clip: Clip
    }

    static let instructions = """
        You write the text of one social video post for the platform named in the brief. Answer with one \
        JSON object and nothing else. Its keys are the fields the brief asks for: "title" (one line), \
        "description", "hashtags" (a list of single words without "#", as many as asked) and \
        "first_comment" (a comment the creator posts under the post right after it). Keep every \
        field within the brief's limits: they are hard limits and a longer text is thrown away. Base the \
        text on the draft and the fields; do not invent facts, links or @mentions.
        """

    /// The chat request for one target.
    static func request(
        platform: String, ask: AIAsk, draft: PublishMetadata, rules: TextRules, fields: [String: String], clip: Brief.Clip, config: CaptionsConfig?
    ) -> ChatCompletion.Request {
        let brief = Brief(
            platform: platform,
            asked: .init(title: ask.title, description: ask.description, hashtags: ask.hashtags, firstComment: ask.firstComment),
            limits: limits(rules), draft: .init(title: draft.title, description: draft.description, tags: draft.tags), fields: fields, clip: clip)
        let json = (try? JSONCoding.encoder(pretty: true).encode(brief)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        let system = instructions + (config?.prompt.map { "\n\n" + $0 } ?? "")
        return ChatCompletion.Request(
            model: config?.model ?? "", messages: [.init(role: "system", content: system), .init(role: "user", content: json)], temperature: 0.7)
    }

    /// The profile's text rules as sentences a model follows ("title: at most 100 characters").
    static func limits(_ rules: TextRules) -> [String] {
        func words(_ limits: [TextLimit]) -> String {
            limits.map { "at most \($0.max) \(unit($0.counts))" }.joined(separator: " and ")
        }
        var out: [String] = []
        if let t = rules.title, !t.limits.isEmpty {
            out.append("title: \(words(t.limits))" + (t.forbidden.map { ", without any of \($0)" } ?? ""))
        }
        if let d = rules.description, !d.limits.isEmpty {
            out.append("description: \(words(d.limits))" + (d.forbidden.map { ", without any of \($0)" } ?? ""))
        }
        if let c = rules.caption {
            let parts = c.compose.from.map(\.rawValue).joined(separator: " and ") + (c.compose.tags == .none ? "" : " and the hashtags")
            out.append("the post shows \(parts) as one text: \(words(c.limits)) together")
            if let h = c.maxHashtags { out.append("at most \(h) hashtags") }
        }
        if let n = rules.tags?.maxCount { out.append("at most \(n) tags") }
        if let c = rules.comment, !c.limits.isEmpty { out.append("first comment: \(words(c.limits))") }
        if let n = rules.tags?.maxTotal { out.append("tags: at most \(n) characters together") }
        return out
    }

    static func unit(_ c: TextCount) -> String {
        switch c {
        case .graphemes, .unicodeScalars: "characters"
        case .utf16: "UTF-16 code units (an emoji counts 2)"
        case .bytes: "bytes of UTF-8 (an emoji counts 4)"
        case .xWeighted: "weighted characters (a link counts 23, an emoji or a CJK character 2)"
        case .emojiBytes: "characters (an emoji counts as its UTF-8 bytes)"
        }
    }
}
