/// JSON that libyaml (a YAML 1.1 parser) would refuse although any JSON parser takes it. JSON escapes a
/// character outside the Basic Multilingual Plane as a UTF-16 surrogate pair (`\ud83d\udd25`, what
/// Python's `json.dumps` writes for 🔥 by default); YAML wants the code point (`\U0001F525`).
enum JSONEscapes {
    /// JSON documents start with `{` or `[` (after whitespace and an optional BOM).
    static func looksLikeJSON(_ text: String) -> Bool {
        for u in text.utf8 {
            switch u {
            case 0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF: continue
            case UInt8(ascii: "{"), UInt8(ascii: "["): return true
            default: return false
            }
        }
        return false
    }

    /// Rewrites surrogate escapes inside JSON strings: a pair becomes `\UXXXXXXXX`; a lone surrogate
    /// (which JSON parsers also accept) becomes U+FFFD, the replacement character. Everything else,
    /// including `\\ud83d` (an escaped backslash followed by text), is left exactly as it was.
    static func rewriteSurrogates(_ text: String) -> String {
        let b = Array(text.utf8)
        guard b.contains(UInt8(ascii: "\\")) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        var inString = false
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= b.count else { return nil }
            var v: UInt32 = 0
            for c in b[at..<at + 4] {
                guard let d = hexValue(c) else { return nil }
                v = v << 4 | d
            }
            return v
        }
        while i < b.count {
            let c = b[i]
            if !inString {
                if c == UInt8(ascii: "\"") { inString = true }
                out.append(c); i += 1
                continue
            }
            if c == UInt8(ascii: "\"") { inString = false; out.append(c); i += 1; continue }
            guard c == UInt8(ascii: "\\"), i + 1 < b.count else { out.append(c); i += 1; continue }
            let next = b[i + 1]
            if next == UInt8(ascii: "u"), let hi = hex4(i + 2), (0xD800...0xDFFF).contains(hi) {
                if hi <= 0xDBFF, i + 7 < b.count, b[i + 6] == UInt8(ascii: "\\"), b[i + 7] == UInt8(ascii: "u"),
                    let lo = hex4(i + 8), (0xDC00...0xDFFF).contains(lo)
                {
                    let scalar = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    out.append(contentsOf: Array(("\\U" + pad8(scalar)).utf8))
                    i += 12
                } else {
                    out.append(contentsOf: Array("\\uFFFD".utf8))
                    i += 6
                }
                continue
            }
            if next == UInt8(ascii: "/") {
                // `\/` is a JSON escape (PHP writes it); YAML 1.1 does not know it, and `/` needs none.
                out.append(UInt8(ascii: "/")); i += 2
                continue
            }
            // Any other escape is copied whole, so an escaped quote or backslash never ends the string.
            out.append(c); out.append(next); i += 2
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(c - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    static func pad8(_ v: UInt32) -> String {
        let h = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 8 - h.count)) + h
    }
}
