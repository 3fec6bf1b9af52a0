/// Positions in a user's file as people read them: 1-based lines and columns counted in Unicode
/// scalars (as libyaml counts them), and always on a line that exists, so a report can quote it.
package enum TextPosition {
    /// The line and column of byte `offset` in UTF-8 `bytes`.
    static func lineColumn(_ bytes: [UInt8], offset: Int) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for k in 0..<min(offset, bytes.count) {
            if bytes[k] == 0x0A { line += 1; column = 1 } else if bytes[k] & 0xC0 != 0x80 { column += 1 }
        }
        return (line, column)
    }

    /// A position libyaml gave, moved onto a real line: past the last line it becomes `fallback` (where
    /// the unclosed thing began) or the end of the last line with text.
    static func clamp(line: Int, column: Int, in text: String, fallback: (Int, Int)?) -> (line: Int, column: Int) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.unicodeScalars.count }
        while let last = lines.last, last == 0, lines.count > 1 { lines.removeLast() }
        if line >= 1, line <= lines.count, column <= lines[line - 1] + 1 { return (line, max(1, column)) }
        if let (l, c) = fallback, l >= 1, l <= lines.count { return (l, max(1, c)) }
        let last = max(1, lines.count)
        return (last, (lines.last ?? 0) + 1)
    }

    /// The offset of the first byte that is not part of well-formed UTF-8 (overlong forms, surrogates
    /// and code points past U+10FFFF included), or nil.
    package static func firstInvalidUTF8(_ b: [UInt8]) -> Int? {
        var i = 0
        while i < b.count {
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            let (n, lo, hi): (Int, UInt8, UInt8)
            switch c {
            case 0xC2...0xDF: (n, lo, hi) = (1, 0x80, 0xBF)
            case 0xE0: (n, lo, hi) = (2, 0xA0, 0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: (n, lo, hi) = (2, 0x80, 0xBF)
            case 0xED: (n, lo, hi) = (2, 0x80, 0x9F)
            case 0xF0: (n, lo, hi) = (3, 0x90, 0xBF)
            case 0xF1...0xF3: (n, lo, hi) = (3, 0x80, 0xBF)
            case 0xF4: (n, lo, hi) = (3, 0x80, 0x8F)
            default: return i
            }
            // The last continuation byte must exist; the first has its own range, the rest 0x80–0xBF.
            guard i + n < b.count, (lo...hi).contains(b[i + 1]) else { return i }
            for k in stride(from: 2, through: n, by: 1) where b[i + k] & 0xC0 != 0x80 { return i }
            i += n + 1
        }
        return nil
    }
}
