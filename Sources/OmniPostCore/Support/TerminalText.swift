/// Text that came from a user (a file name, a sidecar's title, a platform's error) on its way to a
/// terminal or a log line. Control characters would act there — an escape sequence retitles the
/// terminal or clears the screen, a newline forges a whole line of its own — so each is shown as
/// `\n`, `\r`, `\t` or `\u{1B}` instead: visible, and never obeyed.
package enum TerminalText {
    package static func escape(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: isControl) else { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count + 8)
        for u in s.unicodeScalars {
            guard isControl(u) else { out.unicodeScalars.append(u); continue }
            switch u {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out += "\\u{" + String(u.value, radix: 16, uppercase: true) + "}"
            }
        }
        return out
    }

    /// C0 controls, DEL, C1 controls (U+0080–U+009F: 8-bit CSI and friends), and the bidirectional
    /// overrides and isolates that make a line read differently from what it holds.
    static func isControl(_ u: Unicode.Scalar) -> Bool {
        u.value < 0x20 || (0x7F...0x9F).contains(u.value) || (0x202A...0x202E).contains(u.value) || (0x2066...0x2069).contains(u.value)
    }
}
