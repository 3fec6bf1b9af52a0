import Foundation
import OmniPostCore

/// Checks several platforms' settings share: an http(s) URL, a map of extra HTTP headers.
extension AccountConfig {
    /// `key` (when written) must be an http(s) URL with a host.
    func checkURL(_ key: String) throws {
        guard let n = setting(key) else { return }
        let text = try n.string()
        let u = URL(string: text)
        guard let scheme = u?.scheme?.lowercased(), ["http", "https"].contains(scheme), u?.host?.isEmpty == false else {
            throw n.fail("'\(Excerpt.quote(text))' is not an http(s) URL")
        }
    }

    /// `key` (when written) must map header names to one-line values; `reserved` names those OmniPost sets itself.
    func checkHeaders(_ key: String, reserved: (String) -> String?) throws {
        guard let h = setting(key) else { return }
        for (k, v) in try h.mapping() {
            guard !k.isEmpty, k.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                throw v.fail("header name '\(Excerpt.quote(k))' must be letters, digits, - or _")
            }
            if let why = reserved(k.lowercased()) { throw v.fail("header '\(k)' \(why)") }
            guard try v.string().allSatisfy({ !$0.isNewline }) else { throw v.fail("a header value must be one line") }
        }
    }

    /// The `headers:` map as name/value pairs (checked already).
    func headerPairs(_ key: String) -> [(String, String)] {
        ((try? setting(key)?.mapping()) ?? [:]).compactMap { k, v in (try? v.string()).map { (k, $0) } }
    }
}
