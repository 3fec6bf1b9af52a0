import Foundation

/// How Threads counts a post's text against its limit (the profile's `counts: emoji_bytes`, 500): a
/// character counts 1, but an emoji counts as many as the bytes of its UTF-8 encoding (👍 4, 👍🏽 8,
/// 👨‍👩‍👧 18) — so a caption with emoji that counts under the limit in characters can be refused.
/// Validation and the adapter count with it; the sandbox's Threads counts with its own
/// (`ThreadsPostLength`), held to the same answers by SandboxTextCounterTests.
package enum ThreadsText {
    package static func length(_ text: String) -> Int {
        text.reduce(0) { $0 + (isEmoji($1) ? String($1).utf8.count : 1) }
    }

    /// A character shown as an emoji: a pictograph drawn as emoji by default, or one made emoji by a
    /// variation selector, a skin tone, a keycap or a zero-width join.
    static func isEmoji(_ c: Character) -> Bool {
        let scalars = c.unicodeScalars
        guard let first = scalars.first else { return false }
        if scalars.contains(where: { $0.properties.isEmojiPresentation }) { return true }
        if first.properties.isEmoji && scalars.count > 1 {
            // Text-default pictographs (☺, ❤, digits) become emoji with U+FE0F, a keycap U+20E3, or a ZWJ sequence.
            return scalars.contains { $0.value == 0xFE0F || $0.value == 0x20E3 || $0.value == 0x200D || $0.properties.isEmojiModifier }
        }
        return false
    }
}
