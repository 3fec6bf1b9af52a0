/// Where an emoji starts and ends in a run of code points, read from Unicode's emoji properties and
/// its sequence forms (UTS #51 §1.4: presentation and modifier sequences, flags, keycaps, tag sequences,
/// ZWJ sequences). The sandbox's own reading, for the platforms that count an emoji as a whole (X as 2,
/// Threads as its UTF-8 bytes): written apart from the adapters' counters so a mistake in either shows.
enum EmojiSequences {
    static let zwj: UInt32 = 0x200D, presentationSelector: UInt32 = 0xFE0F, keycap: UInt32 = 0x20E3

    /// The end (exclusive) of the emoji starting at `i`, or nil when none starts there.
    static func end(_ s: [Unicode.Scalar], at i: Int) -> Int? {
        guard var j = element(s, at: i, afterJoiner: false) else { return nil }
        // element (ZWJ element)*: 👨‍👩‍👧, 🏳️‍🌈, 👩🏽‍💻
        while j + 1 < s.count, s[j].value == zwj, let next = element(s, at: j + 1, afterJoiner: true) { j = next }
        return j
    }

    /// One element: a flag, a keycap, or a pictograph in emoji presentation with its skin tone or tags.
    /// After a joiner a pictograph in text presentation counts too (`👨‍⚕` is still one emoji).
    static func element(_ s: [Unicode.Scalar], at i: Int, afterJoiner: Bool) -> Int? {
        guard i < s.count else { return nil }
        let c = s[i], p = c.properties
        if isRegionalIndicator(c) { return i + 1 < s.count && isRegionalIndicator(s[i + 1]) ? i + 2 : nil }
        if "0123456789#*".unicodeScalars.contains(c) {
            var j = i + 1
            if j < s.count, s[j].value == presentationSelector { j += 1 }
            return j < s.count && s[j].value == keycap ? j + 1 : nil
        }
        var j = i + 1
        let selected = j < s.count && s[j].value == presentationSelector
        let modified = j < s.count && s[j].properties.isEmojiModifier
        guard p.isEmojiPresentation || (p.isEmoji && (selected || modified || afterJoiner)) else { return nil }
        if selected { j += 1 }
        if j < s.count, s[j].properties.isEmojiModifier { j += 1 }
        // A subdivision flag: 🏴 followed by tag letters and the cancel tag.
        if j < s.count, (0xE0020...0xE007E).contains(s[j].value) {
            var k = j
            while k < s.count, (0xE0020...0xE007E).contains(s[k].value) { k += 1 }
            if k < s.count, s[k].value == 0xE007F { j = k + 1 }
        }
        return j
    }

    static func isRegionalIndicator(_ c: Unicode.Scalar) -> Bool { (0x1F1E6...0x1F1FF).contains(c.value) }

    /// Whether `text` is exactly one emoji.
    static func isOne(_ text: Substring) -> Bool {
        let s = Array(text.unicodeScalars)
        return !s.isEmpty && end(s, at: 0) == s.count
    }
}
