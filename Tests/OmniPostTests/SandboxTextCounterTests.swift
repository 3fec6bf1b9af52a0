import OmniPostCore
@testable import OmniPostSandbox
import Testing

/// The sandbox counts X's and Threads' text with counters of its own, written from the platforms'
/// published rules, and the adapters count with theirs: fed the same tricky texts, they must agree — so
/// a mistake in one is a failure here rather than a post the sandbox accepts because it shares the bug.
@Suite struct SandboxTextCounterTests {
    /// Emoji sequences (ZWJ, skin tone, flags, keycaps, tag sequences), CJK and Hangul, combining marks
    /// that compose and that do not, astral letters, links (long, with a query, in parentheses, ending a
    /// sentence, after a line break), punctuation in the light ranges and outside them.
    static let corpus: [String] = [
        "hello world",
        "Waves 🌊 at dawn",
        "👨‍👩‍👧‍👦 family day",
        "👍🏽 and 👍🏿 and 👍",
        "🏳️‍🌈 pride",
        "🇯🇵🇫🇷 flags",
        "1️⃣ 2️⃣ #️⃣",
        "🏴󠁧󠁢󠁥󠁮󠁧󠁿 England",
        "👩🏽‍💻 at work, 👨‍⚕️ on call",
        "❤️ ❤ ☺️ ☺ ©️ ©",
        "東京タワーの夜景 — 美しい",
        "안녕하세요 세계",
        "Cafe\u{301} re\u{301}sume\u{301}",
        "q\u{303} and a\u{308}\u{301}",
        "𝐁𝐨𝐥𝐝 𝕏 𓀀",
        "see https://example.com/a/very/long/path/that/goes/on/and/on",
        "query https://example.com/watch?v=abc&t=10s#top end",
        "more at https://example.com/waves.",
        "(see https://example.com/x)",
        "Title\n\nhttps://example.com/clip\n\n#sea #dawn",
        "“quoted” ‘single’ — dash … ellipsis ′prime″",
        "tabs\tand\nnew lines",
        String(repeating: "a", count: 279) + "🌊",
        String(repeating: "日", count: 140)
    ]

    @Test(arguments: corpus) func xCountersAgree(_ text: String) {
        #expect(XText.weightedLength(text) == XPostLength.of(text), "adapter \(XText.weightedLength(text)), sandbox \(XPostLength.of(text)) for \(text.debugDescription)")
    }

    @Test(arguments: corpus) func threadsCountersAgree(_ text: String) {
        #expect(ThreadsText.length(text) == ThreadsPostLength.of(text), "adapter \(ThreadsText.length(text)), sandbox \(ThreadsPostLength.of(text)) for \(text.debugDescription)")
    }

    /// The sandbox's counters on their own, against the platforms' published examples.
    @Test func sandboxCountersFollowThePublishedRules() {
        #expect(XPostLength.of("hello") == 5)
        #expect(XPostLength.of("日本語") == 6)
        #expect(XPostLength.of("👨‍👩‍👧‍👦") == 2)
        #expect(XPostLength.of("https://example.com/a/very/long/path") == 23)
        #expect(XPostLength.of("https://example.com/x.") == 24)
        #expect(XPostLength.of(String(repeating: "a", count: 280)) == XPostLength.limit)
        #expect(ThreadsPostLength.of("👍") == 4)
        #expect(ThreadsPostLength.of("👍🏽") == 8)
        #expect(ThreadsPostLength.of("👨‍👩‍👧") == 18)
        #expect(ThreadsPostLength.of("café") == 4)
        #expect(ThreadsPostLength.of("日本語") == 3)
    }
}
