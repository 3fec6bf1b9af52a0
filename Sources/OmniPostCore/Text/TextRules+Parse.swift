/// Reading a profile's `text:`. Each field is a rule:
///
///     title:       {max: 100, counts: graphemes, forbidden: "<>", required: true}
///     description: {max: 5000, counts: bytes}
///     caption:     {max: 280, counts: x_weighted, from: [title, description], separator: "\n\n", tags: hashtags}
///     caption:     {max: {graphemes: 300, bytes: 3000}, tags: hashtags}   # several limits, all must hold
///     tags:        {max_total: 500, max_count: 20, min_count: 1}
///     comment:     {max: 2200, counts: graphemes}    # a first comment under the post
///
/// Older files' flat keys (`title_max`, `title_forbidden`, `description_max_bytes`, `description_forbidden`,
/// `tags_total_max`, `caption_max`) still read as the same rules; `caption_max` keeps the way the bundled
/// profile of the same platform composes and counts its caption (`legacyCaption`).
extension TextRules {
    static let fieldKeys = ["title", "description", "caption", "tags", "chapters", "comment"]
    static let legacyKeys = ["title_max", "title_forbidden", "description_max_bytes", "description_forbidden", "tags_total_max", "caption_max"]

    static func parse(_ node: DocNode, profile: String, legacyCaption: () -> CaptionRule?) throws -> TextRules {
        let t = try node.mapping(allowed: fieldKeys + legacyKeys)
        var out = TextRules(profile: profile)
        if let old = legacyKeys.first(where: { t[$0] != nil }) {
            if let new = fieldKeys.first(where: { t[$0] != nil }) {
                throw t[new]!.fail("profile '\(profile)': `text:` mixes the older `\(old)` with `\(new):`; write `\(new): {max: …, counts: …}` for every field")
            }
            return try parseLegacy(t, profile: profile, legacyCaption: legacyCaption)
        }
        if let n = t["title"] { out.title = try parseField(n) }
        if let n = t["description"] { out.description = try parseField(n) }
        if let n = t["caption"] { out.caption = try parseCaption(n) }
        if let n = t["comment"] { out.comment = try parseField(n) }
        if let n = t["tags"] {
            let m = try n.mapping(allowed: ["max_total", "max_count", "min_count"])
            out.tags = TagsRule(maxTotal: try m["max_total"]?.int(), maxCount: try m["max_count"]?.int(), minCount: try m["min_count"]?.int())
        }
        if let n = t["chapters"] {
            let m = try n.mapping(allowed: ["min_count", "min_seconds"])
            out.chapters = ChapterRule(minCount: try m["min_count"]?.int() ?? 3, minSeconds: try m["min_seconds"]?.double() ?? 10)
        }
        return out
    }

    static func parseField(_ node: DocNode) throws -> FieldRule {
        let m = try node.mapping(allowed: ["max", "counts", "forbidden", "required"])
        return FieldRule(limits: try limits(m, node), forbidden: try m["forbidden"]?.string(), required: try m["required"]?.bool() ?? false)
    }

    static func parseCaption(_ node: DocNode) throws -> CaptionRule {
        let m = try node.mapping(allowed: ["max", "counts", "from", "separator", "tags", "max_hashtags", "max_mentions"])
        var compose = CaptionComposition()
        if let f = m["from"] {
            compose.from = try f.sequence().map { CaptionComposition.Part(rawValue: try $0.oneOf(CaptionComposition.Part.allCases.map(\.rawValue)))! }
            if compose.from.isEmpty { throw f.fail("`from` names at least one of title, description") }
        }
        if let s = m["separator"] { compose.separator = try s.string() }
        if let g = m["tags"] { compose.tags = CaptionComposition.Tags(rawValue: try g.oneOf(CaptionComposition.Tags.allCases.map(\.rawValue)))! }
        return CaptionRule(
            limits: try limits(m, node), compose: compose,
            maxHashtags: try m["max_hashtags"]?.int(), maxMentions: try m["max_mentions"]?.int())
    }

    /// `max: 280, counts: x_weighted` (counts defaults to graphemes), or `max: {graphemes: 300, bytes: 3000}`.
    static func limits(_ m: [String: DocNode], _ node: DocNode) throws -> [TextLimit] {
        let counters = TextCount.allCases.map(\.rawValue)
        guard let max = m["max"] else {
            if let c = m["counts"] { throw c.fail("`counts` says how `max` is counted, and there is no `max`") }
            return []
        }
        if case .mapping = max.node {
            if let c = m["counts"] { throw c.fail("`max` names its counters already; leave `counts` out") }
            let byName = try max.mapping(allowed: counters)
            return try TextCount.allCases.compactMap { c in try byName[c.rawValue].map { TextLimit(max: try positive($0), counts: c) } }
        }
        let counts = try m["counts"].map { TextCount(rawValue: try $0.oneOf(counters))! } ?? .graphemes
        return [TextLimit(max: try positive(max), counts: counts)]
    }

    static func positive(_ node: DocNode) throws -> Int {
        let n = try node.int()
        if n < 1 { throw node.fail("a text limit is at least 1, found \(n)") }
        return n
    }

    static func parseLegacy(_ t: [String: DocNode], profile: String, legacyCaption: () -> CaptionRule?) throws -> TextRules {
        var out = TextRules(profile: profile)
        if t["title_max"] != nil || t["title_forbidden"] != nil {
            // A title with a limit was always required; one with only forbidden characters was not.
            out.title = FieldRule(
                limits: try t["title_max"].map { [TextLimit(max: try positive($0), counts: .graphemes)] } ?? [],
                forbidden: try t["title_forbidden"]?.string(), required: t["title_max"] != nil)
        }
        if t["description_max_bytes"] != nil || t["description_forbidden"] != nil {
            out.description = FieldRule(
                limits: try t["description_max_bytes"].map { [TextLimit(max: try positive($0), counts: .bytes)] } ?? [],
                forbidden: try t["description_forbidden"]?.string())
        }
        if let n = t["tags_total_max"] { out.tags = TagsRule(maxTotal: try n.int()) }
        if let n = t["caption_max"] {
            let max = try positive(n)
            // The platform's own way of making and counting its caption, with this number as its (first) limit.
            var rule = legacyCaption() ?? CaptionRule(limits: [TextLimit(max: max, counts: .graphemes)])
            if rule.limits.isEmpty { rule.limits = [TextLimit(max: max, counts: .graphemes)] } else { rule.limits[0].max = max }
            out.caption = rule
        }
        return out
    }
}
