import Foundation

/// A text that breaks its profile's rules: which field (so validation can answer at its line) and why.
package struct TextProblem: Sendable, Equatable {
    package enum Field: String, Sendable { case title, description, caption, tags }
    package var field: Field
    package var code: ReasonCode
    package var message: String
}

extension TextRules {
    /// The first rule the text breaks, field by field (title, description, caption, tags); nil when all hold.
    package func problem(title: String, description: String, tags: [String]) -> TextProblem? {
        if let rule = self.title, let p = Self.check(title, "title", rule: rule, profile: profile, excerpt: true) {
            return TextProblem(field: .title, code: p.code, message: p.message)
        }
        if let rule = self.description, let p = Self.check(description, "description", rule: rule, profile: profile, excerpt: false) {
            return TextProblem(field: .description, code: p.code, message: p.message)
        }
        if let rule = caption, let p = captionProblem(rule, title: title, description: description, tags: tags) {
            return TextProblem(field: .caption, code: .textTooLong, message: p)
        }
        if let limit = self.tags?.maxTotal, TagsRule.total(tags) > limit {
            return TextProblem(field: .tags, code: .textTooLong, message: "the tags add up to \(TagsRule.total(tags)) characters; \(profile) allows \(limit)")
        }
        if let least = self.tags?.minCount, tags.count < least {
            let has = tags.isEmpty ? "has no tags" : "has \(tags.count) tag\(tags.count == 1 ? "" : "s")"
            return TextProblem(field: .tags, code: .tagsRequired, message: "this post \(has); \(profile) needs at least \(least) — give the drop tags: [...]")
        }
        if let limit = self.tags?.maxCount, tags.count > limit {
            return TextProblem(field: .tags, code: .invalidValue, message: "this post has \(tags.count) tags; \(profile) takes at most \(limit) in one post")
        }
        return nil
    }

    /// The caption exactly as the platform will be sent it.
    package func caption(title: String, description: String, tags: [String]) -> String? {
        caption?.compose.compose(title: title, description: description, tags: tags)
    }

    static func check(_ text: String, _ name: String, rule: FieldRule, profile: String, excerpt: Bool) -> (code: ReasonCode, message: String)? {
        if rule.required, text.trimmingCharacters(in: .whitespaces).isEmpty { return (.textInvalid, "the \(name) is empty") }
        if let over = Self.overLimit(text, rule.limits, subject: "the \(name)", profile: profile) {
            return (.textTooLong, over + (excerpt ? ": \"\(text.prefix(40))…\"" : ""))
        }
        if let bad = rule.forbidden, let c = text.first(where: { bad.contains($0) }) {
            return (.textInvalid, "the \(name) contains '\(c)', which \(profile) does not allow")
        }
        return nil
    }

    func captionProblem(_ rule: CaptionRule, title: String, description: String, tags: [String]) -> String? {
        let text = rule.compose.compose(title: title, description: description, tags: tags)
        if let over = Self.overLimit(text, rule.limits, subject: "the caption (\(rule.compose.madeOf))", profile: profile) { return over }
        let words = text.split(whereSeparator: { $0.isWhitespace })
        if let max = rule.maxHashtags, case let n = words.filter({ $0.hasPrefix("#") }).count, n > max {
            return "the caption has \(n) hashtags; \(profile) allows \(max)"
        }
        if let max = rule.maxMentions, case let n = words.filter({ $0.hasPrefix("@") }).count, n > max {
            return "the caption has \(n) @mentions; \(profile) allows \(max)"
        }
        return nil
    }

    /// "the caption (…) counts 281 of X's weighted characters; x allows 280 (links count 23, …)"; with
    /// two limits the other count is said too: "is 3750 bytes in 150 graphemes; bluesky allows 3000 bytes".
    static func overLimit(_ text: String, _ limits: [TextLimit], subject: String, profile: String) -> String? {
        guard let broken = limits.first(where: { $0.counts.count(text) > $0.max }) else { return nil }
        var out = "\(subject) \(broken.counts.phrase(broken.counts.count(text)))"
        for other in limits where other != broken { out += " in \(other.counts.count(text)) \(other.counts.shortUnit)" }
        out += "; \(profile) allows \(broken.max)"
        if limits.count > 1 { out += " \(broken.counts.shortUnit)" }
        if let why = broken.counts.explanation { out += " (\(why))" }
        return out
    }
}

extension TextRules {
    /// What is wrong with a first comment under the post, counted as the profile says a comment is
    /// counted; nil when it holds or the profile names no limit for one.
    package func commentProblem(_ text: String) -> (code: ReasonCode, message: String)? {
        guard let rule = comment else { return nil }
        return Self.check(text, "first comment", rule: rule, profile: profile, excerpt: true)
    }
}
