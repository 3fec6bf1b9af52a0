/// How Threads counts a post's text against its 500, the sandbox's own counter written from Threads'
/// documentation ("Text posts are limited to 500 characters. Emojis are counted as the number of UTF-8
/// bytes.", developers.facebook.com/documentation/threads/posts, Limitations), not the adapter's
/// `ThreadsText`: both are fed the same texts (SandboxTextCounterTests), so a mistake in either shows.
/// A character is what a reader sees as one (an extended grapheme cluster); one that is an emoji
/// counts its bytes (👍 4, 👍🏽 8, 👨‍👩‍👧 18).
enum ThreadsPostLength {
    static let limit = 500

    static func of(_ text: String) -> Int {
        text.reduce(0) { sum, c in
            let one = String(c)
            return sum + (EmojiSequences.isOne(one[...]) ? one.utf8.count : 1)
        }
    }
}
