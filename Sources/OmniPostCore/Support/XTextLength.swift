import Foundation

/// How long X counts a post's text (twitter-text 3.x, the configuration X itself uses): the text in
/// NFC; every code point weighs 2, except the Latin/Greek/Cyrillic/… block U+0000–U+10FF and a few
/// punctuation ranges, which weigh 1; an emoji (with its modifiers and joiners) weighs 2 as a whole;
/// every link weighs 23, whatever its length. The limit it is held to is the profile's (`counts:
/// x_weighted`, 280 for accounts without a subscription), not a constant here. Validation and the
/// adapter count with it; the sandbox's X counts with its own (`XPostLength`), and
/// SandboxTextCounterTests holds the two to the same answers.
package enum XText {
    static let urlWeight = 23

    static let lightRanges: [ClosedRange<UInt32>] = [0...4351, 8192...8205, 8208...8223, 8242...8247]

    package static func weightedLength(_ text: String) -> Int {
        var total = 0
        // Words between any white space (a caption's line breaks too); the separators weigh as characters.
        var word = ""
        for ch in text.precomposedStringWithCanonicalMapping {
            if ch.isWhitespace {
                total += wordWeight(word) + weight(ch)
                word = ""
            } else {
                word.append(ch)
            }
        }
        return total + wordWeight(word)
    }

    /// A word's weight: a link in it weighs 23; what comes before the link (an opening parenthesis) and
    /// the punctuation ending a sentence after it (`.`, `,`, a `)` it did not open) weigh as characters.
    static func wordWeight(_ word: String) -> Int {
        let plain = { (s: Substring) in s.reduce(0) { $0 + weight($1) } }
        guard let scheme = word.range(of: "https://") ?? word.range(of: "http://"),
            scheme.lowerBound == word.startIndex
                || !word[word.index(before: scheme.lowerBound)].isLetter
                    && !word[word.index(before: scheme.lowerBound)].isNumber
        else { return plain(word[...]) }
        var link = word[scheme.lowerBound...]
        let schemeLength = word[scheme].count
        while link.count > schemeLength, let last = link.last,
            ".,:;!?'\"".contains(last) || (last == ")" && link.filter { $0 == "(" }.count < link.filter { $0 == ")" }.count)
        {
            link = link.dropLast()
        }
        return plain(word[..<scheme.lowerBound]) + urlWeight + plain(word[link.endIndex...])
    }

    static func weight(_ ch: Character) -> Int {
        let scalars = ch.unicodeScalars
        if scalars.contains(where: { $0.properties.isEmojiPresentation || $0.value == 0xFE0F || $0.value == 0x200D })
            || (scalars.first.map { $0.properties.isEmoji && $0.value > 0xFF } ?? false)
        {
            return 2
        }
        return scalars.reduce(0) { sum, s in sum + (lightRanges.contains { $0.contains(s.value) } ? 1 : 2) }
    }
}
