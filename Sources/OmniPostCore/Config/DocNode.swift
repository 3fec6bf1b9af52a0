import Foundation
import Yams

/// A YAML/JSON node that remembers where it came from, so every typed read can fail with
/// `file:line:col`. JSON files are first held to RFC 8259 (`StrictJSON`), then composed by the
/// same parser (YAML is a superset of JSON), which gives both formats one typed model and one error shape.
package struct DocNode {
    package let node: Node
    package let file: String
    /// The reason code used for syntax and type errors: `config_*` for pipelines, `manifest_*`/`invalid_value` for sidecars.
    package let invalidCode: ReasonCode
    /// Set when every problem of a file is wanted (`omnipost check`): reads record what they refuse here
    /// and go on with the rest. Nil (the run path): the first problem is thrown.
    package let problems: ProblemList?

    package init(node: Node, file: String, invalidCode: ReasonCode, problems: ProblemList? = nil) {
        self.node = node
        self.file = file
        self.invalidCode = invalidCode
        self.problems = problems
    }

    /// The same node, recording its problems in `list` (and so do all nodes read from it).
    package func collecting(into list: ProblemList) -> DocNode {
        DocNode(node: node, file: file, invalidCode: invalidCode, problems: list)
    }

    /// Runs one independent part of a read. When problems are being collected, a problem in it is recorded
    /// and the read goes on with the next part; otherwise it is thrown as it is.
    package func collect(_ body: () throws -> Void) throws {
        do { try body() } catch let e as OmniError {
            guard let problems else { throw e }
            problems.add(e)
        }
    }

    func child(_ n: Node) -> DocNode { DocNode(node: n, file: file, invalidCode: invalidCode, problems: problems) }

    package var location: SourceLocation {
        SourceLocation(file: file, line: node.mark?.line, column: node.mark?.column)
    }

    package func fail(_ message: String) -> OmniError {
        OmniError(invalidCode, message, at: location)
    }

    package func fail(_ code: ReasonCode, _ message: String) -> OmniError {
        OmniError(code, message, at: location)
    }

    package var isNull: Bool {
        if case .scalar(let s) = node { return s.tag.description == Tag.Name.null.rawValue || (s.style == .plain && ["", "~", "null", "Null", "NULL"].contains(s.string)) }
        return false
    }

    /// Reads a mapping, rejecting keys outside `allowed` with a did-you-mean.
    package func mapping(allowed: [String]? = nil, what: String = "mapping") throws -> [String: DocNode] {
        guard case .mapping(let mapping) = node else {
            throw fail("expected a \(what) here, found \(kindName)")
        }
        var out: [String: DocNode] = [:]
        for (k, v) in mapping {
            let keyNode = child(k)
            // An unknown key is skipped when collecting: the keys beside it are still read and checked.
            do {
                guard let key = k.string else { throw keyNode.fail("keys must be strings") }
                if let allowed, !allowed.contains(key) {
                    var msg = "unknown key '\(Excerpt.quote(key))'"
                    if let guess = DidYouMean.suggest(key, among: allowed) {
                        msg += "; did you mean '\(guess)'?"
                    } else {
                        msg += "; allowed keys: \(allowed.sorted().joined(separator: ", "))"
                    }
                    throw keyNode.fail(.unknownKey, msg)
                }
                if out[key] != nil { throw keyNode.fail("key '\(Excerpt.quote(key))' appears twice") }
                out[key] = child(v)
            } catch let e as OmniError {
                guard let problems else { throw e }
                problems.add(e)
            }
        }
        return out
    }

    package func sequence() throws -> [DocNode] {
        guard case .sequence(let seq) = node else { throw fail("expected a list here, found \(kindName)") }
        return seq.map { child($0) }
    }

    package func string() throws -> String {
        guard case .scalar(let s) = node else { throw fail("expected text here, found \(kindName)") }
        return s.string
    }

    package func int() throws -> Int {
        guard case .scalar(let s) = node, let v = Int(s.string.replacingOccurrences(of: "_", with: "")) else {
            throw fail("expected a whole number here, found '\(scalarText)'")
        }
        return v
    }

    package func double() throws -> Double {
        guard case .scalar(let s) = node, let v = Double(s.string) else {
            throw fail("expected a number here, found '\(scalarText)'")
        }
        return v
    }

    package func bool() throws -> Bool {
        guard case .scalar(let s) = node else { throw fail("expected true or false here, found \(kindName)") }
        switch s.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw fail("expected true or false here, found '\(Excerpt.quote(s.string))'")
        }
    }

    /// A list of strings; a single string is accepted as a one-element list.
    package func stringList() throws -> [String] {
        if case .scalar = node { return [try string()] }
        return try sequence().map { try $0.string() }
    }

    /// `1.5s`, `500ms`, `2m`, `1h`, or a bare number of seconds.
    package func duration() throws -> Duration {
        let text = try string().trimmingCharacters(in: .whitespaces)
        guard let d = DurationText.parse(text) else {
            throw fail("expected a duration like 2s, 500ms or 5m, found '\(Excerpt.quote(text))'")
        }
        return d
    }

    /// `8MiB`, `256KiB`, `5MB`, or a bare number of bytes.
    package func byteSize() throws -> Int64 {
        let text = try string().trimmingCharacters(in: .whitespaces)
        guard let v = ByteSizeText.parse(text) else {
            throw fail("expected a size like 8MiB or 256KiB, found '\(Excerpt.quote(text))'")
        }
        return v
    }

    /// One of a fixed set of words, with a did-you-mean on a typo.
    package func oneOf(_ choices: [String]) throws -> String {
        let v = try string()
        guard choices.contains(v) else {
            var msg = "'\(Excerpt.quote(v))' is not one of \(choices.joined(separator: ", "))"
            if let g = DidYouMean.suggest(v, among: choices) { msg += "; did you mean '\(g)'?" }
            throw fail(msg)
        }
        return v
    }

    var kindName: String {
        switch node {
        case .scalar(let s): return "'\(Excerpt.quote(s.string))'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    private var scalarText: String {
        if case .scalar(let s) = node { return Excerpt.quote(s.string) }
        return kindName
    }
}

/// Every problem found in one file, in the order found (`omnipost check` reports them all in one pass).
/// Locked: parsed trees are kept by `Sendable` configuration values.
package final class ProblemList: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [OmniError] = []

    package init() {}

    package func add(_ e: OmniError) {
        lock.lock(); defer { lock.unlock() }
        // A node read twice (a merged default, an alias) reports its problem once.
        if !items.contains(where: { $0.code == e.code && $0.message == e.message && $0.location == e.location }) { items.append(e) }
    }

    package var all: [OmniError] {
        lock.lock(); defer { lock.unlock() }
        return items
    }
}
