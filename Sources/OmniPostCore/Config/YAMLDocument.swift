import Foundation
import Yams

/// Parses YAML or JSON text into a `DocNode`, turning every parser failure into an
/// `OmniError` with the file, line and column where libyaml stopped.
public enum YAMLDocument {
    /// More nodes than any honest sidecar or pipeline has; bounds alias expansion ("billion laughs").
    public static let maxNodes = 20_000

    public static func parse(
        _ text: String, file: String, syntaxCode: ReasonCode, invalidCode: ReasonCode
    ) throws -> DocNode {
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
        var budget = maxNodes
        guard countNodes(root, budget: &budget) else {
            throw OmniError(
                .manifestTooComplex,
                "the document expands to more than \(maxNodes) nodes (nested aliases?); refusing to read it",
                at: SourceLocation(file: file, line: root.mark?.line, column: root.mark?.column))
        }
        return DocNode(node: root, file: file, invalidCode: invalidCode)
    }

    /// Reads a file with a size cap before parsing, so a huge or hostile file is refused without being loaded.
    public static func load(
        path: String, displayName: String? = nil, maxBytes: Int, syntaxCode: ReasonCode, invalidCode: ReasonCode
    ) throws -> DocNode {
        let name = displayName ?? path
        let attrs: [FileAttributeKey: Any]
        do { attrs = try FileManager.default.attributesOfItem(atPath: path) } catch {
            throw OmniError(.unreadable, "cannot read the file: \(error.localizedDescription)", at: SourceLocation(file: name), underlying: error)
        }
        let size = (attrs[.size] as? NSNumber)?.intValue ?? 0
        if size > maxBytes {
            throw OmniError(.manifestTooLarge, "the file is \(size) bytes; the limit is \(maxBytes)", at: SourceLocation(file: name))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw OmniError(.unreadable, "cannot read the file (permission denied?)", at: SourceLocation(file: name))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw OmniError(syntaxCode, "the file is not UTF-8 text", at: SourceLocation(file: name, line: 1, column: 1))
        }
        return try parse(text, file: name, syntaxCode: syntaxCode, invalidCode: invalidCode)
    }

    private static func countNodes(_ node: Node, budget: inout Int) -> Bool {
        budget -= 1
        if budget < 0 { return false }
        switch node {
        case .scalar, .alias: return true
        case .sequence(let s):
            for n in s where !countNodes(n, budget: &budget) { return false }
        case .mapping(let m):
            for (k, v) in m {
                if !countNodes(k, budget: &budget) || !countNodes(v, budget: &budget) { return false }
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
