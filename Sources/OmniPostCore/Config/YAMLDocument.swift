import Foundation
import Yams

/// Parses YAML or JSON text into a `DocNode`, turning every parser failure into an
/// `OmniError` with the file, line and column where libyaml stopped.
public enum YAMLDocument {
    /// The most a document may expand to once aliases are followed: text bytes plus a little per node.
    /// Without aliases a document expands to about its own size, so only alias bombs ("billion laughs")
    /// and repeated anchors reach it; a 10,000-entry clip list does not.
    public static let maxExpandedBytes = 4 << 20
    static let nodeOverhead = 2

    public static func parse(
        _ text: String, file: String, syntaxCode: ReasonCode, invalidCode: ReasonCode
    ) throws -> DocNode {
        // What a standard JSON encoder writes must parse: Python's json.dumps writes an emoji as a
        // surrogate pair (`\ud83d\udd25`), which libyaml refuses. Only JSON text is rewritten.
        let text = JSONEscapes.looksLikeJSON(text) ? JSONEscapes.rewriteSurrogates(text) : text
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw syntaxError(error, file: file, code: syntaxCode)
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
        return DocNode(node: root, file: file, invalidCode: invalidCode)
    }

    /// Reads a file with a size cap before parsing, so a huge or hostile file is refused without being loaded.
    public static func load(
        path: String, displayName: String? = nil, maxBytes: Int, syntaxCode: ReasonCode, invalidCode: ReasonCode
    ) throws -> DocNode {
        let name = displayName ?? path
        // Never blocks: a sidecar that is a FIFO or a device is refused, not waited on.
        let data = try UserFile.read(path: path, displayName: name, maxBytes: maxBytes, tooLarge: .manifestTooLarge)
        guard let text = String(data: data, encoding: .utf8) else {
            throw OmniError(syntaxCode, "the file is not UTF-8 text", at: SourceLocation(file: name, line: 1, column: 1))
        }
        return try parse(text, file: name, syntaxCode: syntaxCode, invalidCode: invalidCode)
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

    private static func syntaxError(_ error: YamlError, file: String, code: ReasonCode) -> OmniError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return OmniError(code, "syntax error: \(problem)", at: SourceLocation(file: file, line: mark.line, column: mark.column))
        case .reader(let problem, _, _, _):
            return OmniError(code, "unreadable text: \(problem)", at: SourceLocation(file: file))
        case .duplicatedKeysInMapping(let duplicates, let context):
            return OmniError(code, "duplicate keys: \(duplicates.joined(separator: ", "))",
                             at: SourceLocation(file: file, line: context.mark.line, column: context.mark.column))
        default:
            return OmniError(code, "syntax error: \(error)", at: SourceLocation(file: file))
        }
    }
}
