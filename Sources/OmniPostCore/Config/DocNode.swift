import Foundation
import Yams

/// A YAML/JSON node that remembers where it came from, so every typed read can fail with
/// `file:line:col`. JSON sidecars go through the same parser (YAML is a superset of JSON),
/// which gives both formats one typed model and one error shape.
public struct DocNode {
    public let node: Node
    public let file: String
    /// The reason code used for syntax and type errors: `config_*` for pipelines, `manifest_*`/`invalid_value` for sidecars.
    public let invalidCode: ReasonCode

    public var location: SourceLocation {
        SourceLocation(file: file, line: node.mark?.line, column: node.mark?.column)
    }

    public func fail(_ message: String) -> OmniError {
        OmniError(invalidCode, message, at: location)
    }

    public func fail(_ code: ReasonCode, _ message: String) -> OmniError {
        OmniError(code, message, at: location)
    }

    public var isNull: Bool {
        if case .scalar(let s) = node { return s.tag.description == Tag.Name.null.rawValue || (s.style == .plain && ["", "~", "null", "Null", "NULL"].contains(s.string)) }
        return false
    }

    /// Reads a mapping, rejecting keys outside `allowed` with a did-you-mean.
    public func mapping(allowed: [String]? = nil, what: String = "mapping") throws -> [String: DocNode] {
        guard case .mapping(let mapping) = node else {
            throw fail("expected a \(what) here, found \(kindName)")
        }
        var out: [String: DocNode] = [:]
        for (k, v) in mapping {
            let keyNode = DocNode(node: k, file: file, invalidCode: invalidCode)
            guard let key = k.string else { throw keyNode.fail("keys must be strings") }
            if let allowed, !allowed.contains(key) {
                var msg = "unknown key '\(Excerpt.quote(key))'"
                if let guess = DidYouMean.suggest(key, among: allowed) { msg += "; did you mean '\(guess)'?" }
                else { msg += "; allowed keys: \(allowed.sorted().joined(separator: ", "))" }
                throw keyNode.fail(.unknownKey, msg)
            }
            if out[key] != nil { throw keyNode.fail("key '\(Excerpt.quote(key))' appears twice") }
            out[key] = DocNode(node: v, file: file, invalidCode: invalidCode)
        }
        return out
    }

    public func sequence() throws -> [DocNode] {
        guard case .sequence(let seq) = node else { throw fail("expected a list here, found \(kindName)") }
        return seq.map { DocNode(node: $0, file: file, invalidCode: invalidCode) }
    }

    public func string() throws -> String {
        guard case .scalar(let s) = node else { throw fail("expected text here, found \(kindName)") }
        return s.string
    }

    public func int() throws -> Int {
        guard case .scalar(let s) = node, let v = Int(s.string.replacingOccurrences(of: "_", with: "")) else {
            throw fail("expected a whole number here, found '\(scalarText)'")
        }
        return v
    }

    public func double() throws -> Double {
        guard case .scalar(let s) = node, let v = Double(s.string) else {
            throw fail("expected a number here, found '\(scalarText)'")
        }
        return v
    }

    public func bool() throws -> Bool {
        guard case .scalar(let s) = node else { throw fail("expected true or false here, found \(kindName)") }
        switch s.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw fail("expected true or false here, found '\(Excerpt.quote(s.string))'")
        }
    }

    /// A list of strings; a single string is accepted as a one-element list.
    public func stringList() throws -> [String] {
        if case .scalar = node { return [try string()] }
        return try sequence().map { try $0.string() }
    }

    /// `1.5s`, `500ms`, `2m`, `1h`, or a bare number of seconds.
    public func duration() throws -> Duration {
        let text = try string().trimmingCharacters(in: .whitespaces)
        guard let d = DurationText.parse(text) else {
            throw fail("expected a duration like 2s, 500ms or 5m, found '\(Excerpt.quote(text))'")
        }
        return d
    }

    /// `8MiB`, `256KiB`, `5MB`, or a bare number of bytes.
    public func byteSize() throws -> Int64 {
        let text = try string().trimmingCharacters(in: .whitespaces)
        guard let v = ByteSizeText.parse(text) else {
            throw fail("expected a size like 8MiB or 256KiB, found '\(Excerpt.quote(text))'")
        }
        return v
    }

    /// One of a fixed set of words, with a did-you-mean on a typo.
    public func oneOf(_ choices: [String]) throws -> String {
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
