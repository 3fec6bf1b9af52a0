import Foundation

/// How long X counts a post's text, the sandbox's own counter written from twitter-text's published
/// rules (its configuration v3 and the parser that applies it), not the adapter's `XText`: the two are
/// fed the same texts (SandboxTextCounterTests), so a mistake in either shows as a disagreement instead
/// of passing both sides unseen. The text is taken in NFC; each link counts 23 whatever its length; each
/// emoji (a whole sequence) counts 2; every other code point counts 1 in the Latin-to-Georgian block
/// and three General Punctuation ranges, 2 elsewhere (CJK, astral letters). 280 for an account without
/// a subscription. Links are the ones with a scheme (twitter-text also links a bare `example.com`
/// against its list of top-level domains, which the sandbox does not carry).
enum XPostLength {
    static let limit = 280
    /// Configuration v3: weights in hundredths.
    static let scale = 100, defaultWeight = 200, linkWeight = 23 * 100
    static let lightRanges: [ClosedRange<UInt32>] = [0x0000...0x10FF, 0x2000...0x200D, 0x2010...0x201F, 0x2032...0x2037]

    static func of(_ text: String) -> Int {
        let s = Array(text.precomposedStringWithCanonicalMapping.unicodeScalars)
        let links = self.links(s)
        var i = 0, weight = 0
        while i < s.count {
            if let end = links[i] {
                weight += linkWeight
                i = end
            } else if let end = EmojiSequences.end(s, at: i) {
                weight += defaultWeight
                i = end
            } else {
                weight += lightRanges.contains { $0.contains(s[i].value) } ? scale : defaultWeight
                i += 1
            }
        }
        return weight / scale
    }

    /// Each link's start mapped to its end (exclusive): `http://` or `https://` not glued to a word before
    /// it, a host with a dot, up to the next space; punctuation that ends a sentence (and a closing
    /// parenthesis the link did not open) is not part of it.
    static func links(_ s: [Unicode.Scalar]) -> [Int: Int] {
        var out: [Int: Int] = [:]
        var i = 0
        while i < s.count {
            let before = i == 0 ? nil : s[i - 1]
            guard before.map({ !$0.properties.isAlphabetic && !"0123456789@$#/".unicodeScalars.contains($0) }) ?? true,
                let schemeEnd = scheme(s, at: i)
            else { i += 1; continue }
            var end = schemeEnd
            while end < s.count, !s[end].properties.isWhitespace { end += 1 }
            while end > schemeEnd, ".,:;!?'\"".unicodeScalars.contains(s[end - 1]) || unbalancedClose(s[schemeEnd..<end]) { end -= 1 }
            let host = s[schemeEnd..<end].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            if host.contains("."), host.last != ".", host.first != "." {
                out[i] = end
                i = end
            } else {
                i = schemeEnd
            }
        }
        return out
    }

    static func scheme(_ s: [Unicode.Scalar], at i: Int) -> Int? {
        for p in ["https://", "http://"] {
            let want = Array(p.unicodeScalars)
            guard i + want.count <= s.count else { continue }
            if zip(s[i..<(i + want.count)], want).allSatisfy({ String($0.0).lowercased() == String($0.1) }) { return i + want.count }
        }
        return nil
    }

    /// A link that ends in `)` it never opened: `(see https://example.com)`.
    static func unbalancedClose(_ link: ArraySlice<Unicode.Scalar>) -> Bool {
        guard link.last == ")" else { return false }
        return link.filter { $0 == "(" }.count < link.filter { $0 == ")" }.count
    }
}
