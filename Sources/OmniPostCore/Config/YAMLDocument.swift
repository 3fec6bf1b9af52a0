import Foundation
import Yams

/// Parses YAML or JSON text into a `DocNode`, turning every parser failure into an
/// `OmniError` with the file, line and column where libyaml stopped.
package enum YAMLDocument {
    /// The most a document may expand to once aliases are followed: text bytes plus a little per node.
    /// Without aliases a document expands to about its own size, so only alias bombs ("billion laughs")
    /// and repeated anchors reach it; a 10,000-entry clip list does not.
    package static let maxExpandedBytes = 4 << 20
    static let nodeOverhead = 2

    /// A `.json` file is JSON, read by RFC 8259's rules, not YAML's.
    package static func isJSON(file: String) -> Bool { file.lowercased().hasSuffix(".json") }

    /// Whether JSON text stops before its value ends (what a file still being written looks like), as
    /// opposed to being complete and wrong (a trailing comma, `NaN`), which waiting will not mend.
    package static func jsonEndsEarly(_ text: String) -> Bool {
        do { try StrictJSON.validate(Array(text.utf8)); return false } catch { return error.endOfInput }
    }

    package static func parse(
        _ text: String, file: String, syntaxCode: ReasonCode, invalidCode: ReasonCode
    ) throws -> DocNode {
        let json = isJSON(file: file)
        if json {
            do {
                try StrictJSON.validate(Array(text.utf8))
            } catch {
                throw OmniError(
                    error.tooDeep ? .manifestTooComplex : syntaxCode, error.message,
                    at: SourceLocation(file: file, line: error.line, column: error.column))
            }
        }
        // What a standard JSON encoder writes must parse: Python's json.dumps writes an emoji as a
        // surrogate pair (`\ud83d\udd25`), which libyaml refuses. Only JSON text is rewritten.
        var text = json || JSONEscapes.looksLikeJSON(text) ? JSONEscapes.rewriteSurrogates(text) : text
        // YAML allows a byte-order mark at the start (1.2 §5.2), and Windows editors write one: Yams read a
        // file that starts with one as a document start it did not find (`did not find expected <document
        // start>` at 2:1 — a sidecar refused for a character nobody sees). JSON was told about it above.
        if !json, text.unicodeScalars.first == "\u{FEFF}" { text.unicodeScalars.removeFirst() }
        let root: Node?
        do {
            // The basic resolver: every plain scalar is text, typed later by what the key asks for (DocNode's
            // `int()`, `bool()`, `isNull`). Yams' default resolver compiles seven NSRegularExpressions to tag
            // YAML 1.1 types we never read, which loads ICU's regex code and data: ~6.5 MiB of an idle daemon.
            root = try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            throw syntaxError(error, text: text, file: file, code: syntaxCode)
        } catch {
            throw OmniError(syntaxCode, "could not parse: \(error)", at: SourceLocation(file: file))
        }
        guard let root else {
            throw OmniError(syntaxCode, "the file is empty", at: SourceLocation(file: file, line: 1, column: 1))
        }
        var budget = maxExpandedBytes
        guard measure(root, budget: &budget) else {
            throw OmniError(
                .manifestTooComplex,
                "the document expands to more than \(maxExpandedBytes / 1_048_576) MiB once its aliases are followed (limit on expanded size: \(maxExpandedBytes) bytes); refusing to read it",
                at: SourceLocation(file: file, line: root.mark?.line, column: root.mark?.column))
        }
        // After the size is known to be bounded: aliases come back expanded, so this walk is as long as `measure`'s.
        try refuseForeignTags(root, file: file)
        return DocNode(node: root, file: file, invalidCode: invalidCode)
    }

    /// Reads a file with a size cap before parsing, so a huge or hostile file is refused without being loaded.
    package static func load(
        path: String, displayName: String? = nil, maxBytes: Int, syntaxCode: ReasonCode, invalidCode: ReasonCode
    ) throws -> DocNode {
        let name = displayName ?? path
        // Never blocks: a sidecar that is a FIFO or a device is refused, not waited on.
        let data = try UserFile.read(path: path, displayName: name, maxBytes: maxBytes, tooLarge: .manifestTooLarge)
        return try load(data: data, displayName: name, syntaxCode: syntaxCode, invalidCode: invalidCode)
    }

    /// The bytes of a file already read (under its size cap), parsed as `load(path:)` parses them: a
    /// caller that had to read them anyway (the arrival check) does not read the file a second time.
    package static func load(data: Data, displayName name: String, syntaxCode: ReasonCode, invalidCode: ReasonCode) throws -> DocNode {
        let bytes = [UInt8](data)
        if let bad = TextPosition.firstInvalidUTF8(bytes) {
            let (line, column) = TextPosition.lineColumn(bytes, offset: bad)
            throw OmniError(
                syntaxCode, "the file is not UTF-8 text: byte 0x\(String(bytes[bad], radix: 16, uppercase: true)) at offset \(bad) does not belong there (save it as UTF-8)",
                at: SourceLocation(file: name, line: line, column: column))
        }
        // Decoded as is: a byte-order mark stays, so a JSON file that starts with one is told so.
        return try parse(String(decoding: bytes, as: UTF8.self), file: name, syntaxCode: syntaxCode, invalidCode: invalidCode)
    }

    /// Spends the expanded size of `node` from `budget`; false once it runs out. Yams hands aliases
    /// back already resolved, so a repeated anchor is measured every time it is used.
    private static func measure(_ node: Node, budget: inout Int) -> Bool {
        budget -= nodeOverhead
        if budget < 0 { return false }
        switch node {
        case .scalar(let s):
            budget -= s.string.utf8.count
            return budget >= 0
        case .alias: return true
        case .sequence(let seq):
            for n in seq where !measure(n, budget: &budget) { return false }
        case .mapping(let m):
            for (k, v) in m {
                if !measure(k, budget: &budget) || !measure(v, budget: &budget) { return false }
            }
        }
        return true
    }

    /// The tags YAML's core schema defines for plain data. Anything else (`!!python/object:…`, `!!binary`,
    /// `!local`) asks for a type we do not construct: refused at its line, never silently read as text.
    static let plainTags: Set<String> = [
        Tag.Name.implicit.rawValue, Tag.Name.nonSpecific.rawValue, Tag.Name.str.rawValue, Tag.Name.int.rawValue,
        Tag.Name.float.rawValue, Tag.Name.bool.rawValue, Tag.Name.null.rawValue, Tag.Name.seq.rawValue,
        Tag.Name.map.rawValue, Tag.Name.timestamp.rawValue, Tag.Name.merge.rawValue
    ]

    /// Walks the tree (aliases expanded, as Yams returns them).
    private static func refuseForeignTags(_ node: Node, file: String) throws {
        let tag: String
        switch node {
        case .scalar(let s): tag = s.tag.rawValue
        case .sequence(let s): tag = s.tag.rawValue
        case .mapping(let m): tag = m.tag.rawValue
        case .alias: return
        }
        if !plainTags.contains(tag) {
            let shown = tag.hasPrefix("tag:yaml.org,2002:") ? "!!" + tag.dropFirst("tag:yaml.org,2002:".count) : tag
            throw OmniError(
                .unsupportedTag,
                "the tag '\(Excerpt.quote(shown))' asks for a type OmniPost does not read; a sidecar or pipeline holds plain text, numbers, lists and mappings — remove the tag",
                at: SourceLocation(file: file, line: node.mark?.line, column: node.mark?.column))
        }
        switch node {
        case .sequence(let s): for n in s { try refuseForeignTags(n, file: file) }
        case .mapping(let m): for (k, v) in m { try refuseForeignTags(k, file: file); try refuseForeignTags(v, file: file) }
        default: break
        }
    }

    private static func syntaxError(_ error: YamlError, text: String, file: String, code: ReasonCode) -> OmniError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _), .composer(let context, let problem, let mark, _):
            // libyaml stops at the end of the stream for what was left open (a quote, a bracket): that is
            // past the last line, where no excerpt can be shown. The place it was opened is on a real line.
            let place = TextPosition.clamp(line: mark.line, column: mark.column, in: text, fallback: context.map { ($0.mark.line, $0.mark.column) })
            var message = "syntax error: \(problem)"
            if let context, place != (mark.line, mark.column) || context.mark.line != mark.line {
                message += " (\(context.text) that starts at line \(context.mark.line), column \(context.mark.column))"
            }
            return OmniError(code, message, at: SourceLocation(file: file, line: place.line, column: place.column))
        case .reader(let problem, let offset, _, _):
            let bytes = Array(text.utf8)
            let (line, column) = TextPosition.lineColumn(bytes, offset: min(max(0, offset ?? 0), bytes.count))
            return OmniError(code, "unreadable text: \(problem)", at: SourceLocation(file: file, line: line, column: column))
        case .duplicatedKeysInMapping(let duplicates, let context):
            return OmniError(
                code, "duplicate keys: \(duplicates.joined(separator: ", "))",
                at: SourceLocation(file: file, line: context.mark.line, column: context.mark.column))
        default:
            return OmniError(code, "syntax error: \(error)", at: SourceLocation(file: file))
        }
    }
}
