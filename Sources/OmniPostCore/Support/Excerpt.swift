/// How a report quotes what a user wrote: at most a short, printable excerpt. A failure report is
/// copied into the outbox, `failed/` and `status --json`; it must never carry a whole file's text
/// (or a terminal's escape sequences) along with the reason.
package enum Excerpt {
    package static let maxCharacters = 60

    package static func quote(_ text: String, max: Int = maxCharacters) -> String {
        var out = ""
        var count = 0
        for ch in text {
            if count == max { return out + "…" }
            out += printable(ch)
            count += 1
        }
        return out
    }

    /// A control character written as `\u{1B}`, so it is seen, not acted on.
    package static func printable(_ ch: Character) -> String {
        guard ch.unicodeScalars.contains(where: isControl) else { return String(ch) }
        return ch.unicodeScalars.map { isControl($0) ? "\\u{\(String($0.value, radix: 16, uppercase: true))}" : String($0) }.joined()
    }

    package static func isControl(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || (0x7F...0x9F).contains(s.value)
    }
}
