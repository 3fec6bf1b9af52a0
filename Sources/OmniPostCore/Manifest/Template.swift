/// `{name}` substitution for titles and descriptions. `{{` and `}}` write literal braces.
/// An unknown variable is an error at the field's location, never silently left in a public title.
package enum Template {
    package static func render(_ field: Field<String>, variables: [String: String]) throws -> String {
        var out = ""
        var chars = Array(field.value)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            if c == "{" {
                if chars.first == "{" { out.append("{"); chars = chars.dropFirst(); continue }
                guard let end = chars.firstIndex(of: "}") else {
                    throw OmniError(.invalidValue, "unclosed '{' in \"\(field.value)\" (write {{ for a literal brace)", at: field.location)
                }
                let name = String(chars[chars.startIndex..<end]).trimmingCharacters(in: .whitespaces)
                chars = chars[(end + 1)...]
                guard let value = variables[name] else {
                    var msg = "unknown template variable {\(name)} in \"\(field.value)\""
                    if let g = DidYouMean.suggest(name, among: Array(variables.keys)) {
                        msg += "; did you mean {\(g)}?"
                    } else {
                        msg += "; known: " + variables.keys.sorted().map { "{\($0)}" }.joined(separator: ", ")
                    }
                    throw OmniError(.unknownTemplateVariable, msg, at: field.location)
                }
                out += value
            } else if c == "}" {
                if chars.first == "}" { chars = chars.dropFirst() }
                out.append("}")
            } else {
                out.append(c)
            }
        }
        return out
    }
}

import Foundation

extension Template {
    /// The variable names a template uses (`{{` escapes skipped), for checks that have no clip to fill them.
    package static func names(in text: String) -> [String] {
        var names: [String] = []
        var chars = Array(text)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            guard c == "{" else { continue }
            if chars.first == "{" { chars = chars.dropFirst(); continue }
            guard let end = chars.firstIndex(of: "}") else { break }
            names.append(String(chars[chars.startIndex..<end]).trimmingCharacters(in: .whitespaces))
            chars = chars[(end + 1)...]
        }
        return names
    }
}
