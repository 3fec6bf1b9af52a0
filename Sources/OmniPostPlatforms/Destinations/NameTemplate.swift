import Foundation
import OmniPostCore

/// A name made from a drop: an S3 key (`{date}/{stem}.{ext}`), a file name in a folder. Placeholders
/// are checked when the pipeline is read, so a typo fails at its line instead of at upload time.
package struct NameTemplate: Sendable, Equatable {
    package let text: String

    package static let placeholders = ["date", "time", "year", "month", "day", "stem", "ext", "drop", "sha8", "account"]

    /// Reads a template setting: every `{…}` must be a known placeholder, and the name must stay below
    /// where it is put (no leading `/`, no `..` part).
    package init(_ node: DocNode) throws {
        let text = try node.string()
        if let why = Self.problem(text) { throw node.fail(why) }
        self.text = text
    }

    /// What is wrong with `text` as a template, or nil.
    package static func problem(_ text: String) -> String? {
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { return "'\(Excerpt.quote(text))' has a `{` that is not closed" }
            let name = String(rest[rest.index(after: open)..<close])
            if !placeholders.contains(name) {
                var msg = "unknown placeholder {\(name)} in '\(Excerpt.quote(text))'"
                if let g = DidYouMean.suggest(name, among: placeholders) {
                    msg += "; did you mean {\(g)}?"
                } else {
                    msg += "; known: " + placeholders.map { "{\($0)}" }.joined(separator: ", ")
                }
                return msg
            }
            rest = rest[rest.index(after: close)...]
        }
        if text.isEmpty || text.hasPrefix("/") || text.split(separator: "/").contains("..") || text.hasSuffix("/") {
            return "'\(Excerpt.quote(text))' must be a relative name that stays where it is put (no leading /, no .., not ending in /)"
        }
        return nil
    }

    package init(literal: String) { text = literal }

    /// The name for one delivery. A drop's own words (its stem) can hold nothing that climbs out:
    /// `/` and NUL become `_`. Dates are the host's local time, as a person would file them.
    package func render(_ drop: DropFacts, file: String, sha256: String?, timeZone: TimeZone = .current) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = timeZone
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second], from: drop.takenAt)
        func two(_ v: Int?) -> String { String(format: "%02d", v ?? 0) }
        let ext = (file as NSString).pathExtension
        let account = drop.target.split(separator: ":", maxSplits: 1).last.map(String.init) ?? drop.target
        let values: [String: String] = [
            "year": String(format: "%04d", c.year ?? 0), "month": two(c.month), "day": two(c.day),
            "date": String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0),
            "time": two(c.hour) + two(c.minute) + two(c.second),
            "stem": Self.safe(drop.stem), "ext": ext, "drop": Self.safe(drop.dropId),
            "sha8": String((sha256 ?? drop.sourceSha256 ?? "").prefix(8)), "account": Self.safe(account)
        ]
        var out = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            out += values[String(rest[rest.index(after: open)..<close])] ?? ""
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        // A stem of `..` would still climb: no part of the result may be `.` or `..`.
        return out.split(separator: "/", omittingEmptySubsequences: true)
            .map { $0 == ".." || $0 == "." ? "_" : String($0) }.joined(separator: "/")
    }

    static func safe(_ s: String) -> String {
        String(s.map { $0 == "/" || $0 == "\0" ? "_" : $0 })
    }
}
