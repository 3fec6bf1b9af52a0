import Foundation

/// How long X counts a post's text (twitter-text 3.x, the configuration X itself uses): the text in
/// NFC; every code point weighs 2, except the Latin/Greek/Cyrillic/… block U+0000–U+10FF and a few
/// punctuation ranges, which weigh 1; an emoji (with its modifiers and joiners) weighs 2 as a whole;
/// every link weighs 23, whatever its length. 280 is the limit for accounts without a subscription.
/// In Core because both the X adapter (preflight) and the sandbox's X (which refuses as X does) count it.
public enum XText {
    public static let maxWeighted = 280
    static let urlWeight = 23

    static let lightRanges: [ClosedRange<UInt32>] = [0...4351, 8192...8205, 8208...8223, 8242...8247]

    public static func weightedLength(_ text: String) -> Int {
        var total = 0
        for token in text.precomposedStringWithCanonicalMapping.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
            if token.offset > 0 { total += 1 }   // the space
            let word = token.element
            if word.hasPrefix("https://") || word.hasPrefix("http://") {
                total += urlWeight
                continue
            }
            for ch in word { total += weight(ch) }
        }
        return total
    }

    static func weight(_ ch: Character) -> Int {
        let scalars = ch.unicodeScalars
        if scalars.contains(where: { $0.properties.isEmojiPresentation || $0.value == 0xFE0F || $0.value == 0x200D })
            || (scalars.first.map { $0.properties.isEmoji && $0.value > 0xFF } ?? false) {
            return 2
        }
        return scalars.reduce(0) { sum, s in sum + (lightRanges.contains { $0.contains(s.value) } ? 1 : 2) }
    }
}
