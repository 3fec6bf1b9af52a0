import Foundation

/// One chapter of a clip (`chapters:` in a sidecar): where it starts and its title. A platform that
/// shows chapters from the description (YouTube) gets them written there as `0:00 Title` lines.
package struct Chapter: Sendable, Codable, Equatable {
    package var at: Double
    package var title: String
    /// Where the entry is written, for a rule it breaks.
    package var location: SourceLocation?

    package init(at: Double, title: String, location: SourceLocation? = nil) {
        self.at = at
        self.title = title
        self.location = location
    }

    /// The start as YouTube's description parser reads it: `m:ss`, or `h:mm:ss` from an hour on.
    package var timestamp: String {
        // Parsing bounds it; clamped here too, so no value can trap on its way into a sentence.
        let s = Int(Swift.min(Swift.max(at.isFinite ? at : 0, 0), MediaTime.longest).rounded(.down))
        let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, sec) : String(format: "%d:%02d", m, sec)
    }

    /// `- 0:00 Intro`, or `- {at: "1:02", title: Summit}`; `at` may also be a number of seconds.
    static func parseList(_ node: DocNode) throws -> [Chapter] {
        try node.sequence().map { entry in
            if case .some(let line) = try? entry.string() {
                let parts = line.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1).map(String.init)
                guard parts.count == 2, let at = seconds(parts[0]) else {
                    throw entry.fail(.chaptersInvalid, "a chapter is `m:ss Title` (or `{at: \"m:ss\", title: …}`), found '\(Excerpt.quote(line))'")
                }
                try within(at, parts[0], entry)
                return Chapter(at: at, title: parts[1].trimmingCharacters(in: .whitespaces), location: entry.location)
            }
            let m = try entry.mapping(allowed: ["at", "title"], what: "chapter (`m:ss Title` or {at, title})")
            guard let a = m["at"], let t = m["title"] else { throw entry.fail(.chaptersInvalid, "a chapter needs `at:` and `title:`") }
            let text = try a.string()
            guard let at = seconds(text) else { throw a.fail(.chaptersInvalid, "a chapter's `at` is m:ss, h:mm:ss or seconds, found '\(Excerpt.quote(text))'") }
            try within(at, text, a)
            return Chapter(at: at, title: try t.string(), location: entry.location)
        }
    }

    /// A start no clip reaches is refused where it is written (`MediaTime.longest`).
    static func within(_ at: Double, _ text: String, _ node: DocNode) throws {
        if at > MediaTime.longest {
            throw node.fail(.chaptersInvalid, "a chapter starts within the clip; '\(Excerpt.quote(text, max: 30))' is past any clip's length")
        }
    }

    /// `1:02`, `1:02:03`, `62` or `62.5` as seconds; nil for anything else.
    static func seconds(_ text: String) -> Double? {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (1...3).contains(fields.count) else { return nil }
        if fields.count == 1 { return Double(fields[0]).flatMap { $0 >= 0 && $0.isFinite ? $0 : nil } }
        var total = 0.0
        for (i, f) in fields.enumerated() {
            // Minutes and seconds after the first field are two digits, as a person writes them.
            guard let v = Int(f), v >= 0, i == 0 || (f.count == 2 && v < 60) else { return nil }
            total = total * 60 + Double(v)
        }
        return total
    }
}

/// How a platform shows chapters from a description, and its rules for them (YouTube: the first at
/// 0:00, at least three in ascending order, each at least 10 s long — answer/9884579).
package struct ChapterRule: Sendable, Codable, Equatable {
    package var minCount: Int
    package var minSeconds: Double
    package init(minCount: Int = 3, minSeconds: Double = 10) {
        self.minCount = minCount
        self.minSeconds = minSeconds
    }

    /// The first rule `chapters` break, at the entry that breaks it; `durationS` (when known) bounds the
    /// last chapter too. `platform` names whose rules they are.
    package func problem(_ chapters: [Chapter], durationS: Double?, platform: String, at sidecar: SourceLocation?) -> OmniError? {
        func fail(_ c: Chapter?, _ message: String) -> OmniError {
            OmniError(.chaptersInvalid, "\(platform) shows chapters only when \(message)", at: c?.location ?? sidecar)
        }
        guard let first = chapters.first else { return nil }
        if first.at != 0 { return fail(first, "the first starts at 0:00; it starts at \(first.timestamp)") }
        if chapters.count < minCount { return fail(chapters.last, "there are at least \(minCount); there are \(chapters.count)") }
        for (a, b) in zip(chapters, chapters.dropFirst()) {
            if b.at <= a.at { return fail(b, "they are in ascending order; \(b.timestamp) \"\(Excerpt.quote(b.title, max: 30))\" comes after \(a.timestamp)") }
            if b.at - a.at < minSeconds {
                return fail(b, "each is at least \(Int(minSeconds)) s long; \"\(Excerpt.quote(a.title, max: 30))\" at \(a.timestamp) lasts \(Int(b.at - a.at)) s")
            }
        }
        if let d = durationS, let last = chapters.last {
            if last.at >= d { return fail(last, "each starts within the clip; \(last.timestamp) is past its end (\(Int(d)) s)") }
            if d - last.at < minSeconds {
                return fail(last, "each is at least \(Int(minSeconds)) s long; the last, at \(last.timestamp), lasts \(Int(d - last.at)) s to the clip's end")
            }
        }
        if let empty = chapters.first(where: { $0.title.isEmpty }) { return fail(empty, "each has a title; the one at \(empty.timestamp) has none") }
        if let broken = chapters.first(where: { $0.title.contains(where: \.isNewline) }) {
            return fail(broken, "each title is one line; the one at \(broken.timestamp) has a line break")
        }
        return nil
    }

    /// The description with the chapters as its last lines, the way YouTube reads them.
    package static func describe(_ description: String, _ chapters: [Chapter]) -> String {
        let lines = chapters.map { "\($0.timestamp) \($0.title)" }.joined(separator: "\n")
        return description.isEmpty ? lines : description + "\n\n" + lines
    }
}
