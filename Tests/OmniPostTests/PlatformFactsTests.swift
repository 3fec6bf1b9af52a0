import AsyncHTTPClient
import Foundation
import OmniPostCore
@testable import OmniPostPlatforms
import Testing

/// Every platform fact lives in one place, as data: text rules in the profiles (limits with how each is
/// counted, how a caption is composed), privacy words and override keys in the descriptors. These run
/// over every bundled profile and every registered platform, so a new one is held to the same.
@Suite struct PlatformFactsTests {
    static let catalog = try! ProfileCatalog.bundled()
    static let profileNames = catalog.profiles.keys.sorted()
    static let platformNames = PlatformRegistry.implemented

    static func adapter(_ platform: String) -> any PlatformAdapter {
        let account = AccountConfig(key: "\(platform):t", platform: platform, clientID: "c", clientSecret: "s", refreshToken: "r", endpoint: "", tokenURL: "")
        let settings = AdapterSettings(
            account: account, tokens: TokenProvider(account: account, http: HTTPClient.shared, store: MemoryTokenStore()),
            http: HTTPClient.shared, chunkSize: 1 << 20)
        return PlatformRegistry.makeAdapter(platform: platform, settings: settings)!
    }

    /// Each limit of each profile holds at exactly its number and refuses one more, counted by the counter
    /// its data names; the message says both numbers. The counters are the ones the header documents.
    @Test(arguments: profileNames) func eachTextRuleCountsWithANamedCounterAndHoldsAtItsNumber(_ name: String) throws {
        let profile = try #require(Self.catalog[name])
        #expect(PlatformRegistry.descriptor(profile.platform) != nil, "\(name): platform \(profile.platform) is not registered")
        let header = try String(contentsOf: PipelineConfigTests.repoRoot.appendingPathComponent("Sources/OmniPostCore/Resources/profiles.yaml"), encoding: .utf8)
            .split(separator: "\n").prefix { $0.hasPrefix("#") }.joined(separator: "\n")
        let rules = profile.text
        #expect(rules.profile == name)
        func holds(_ field: TextProblem.Field, _ limit: TextLimit, _ make: (String) -> (String, String)) {
            #expect(header.contains(limit.counts.rawValue), "\(name): counter \(limit.counts.rawValue) is not documented in profiles.yaml")
            // Each limit on its own (Bluesky's 3000 bytes cannot be reached in "a"s under its 300 graphemes).
            var rules = rules
            rules.tags?.minCount = nil  // a tag minimum (Bilibili's) is a rule of its own, held by BilibiliTests
            switch field {
            case .title: rules.title?.limits = [limit]
            case .description: rules.description?.limits = [limit]
            case .caption: rules.caption?.limits = [limit]
            case .tags: break
            }
            // "a" counts 1 with every counter, so `max` of them is exactly at the limit.
            let (t1, d1) = make(String(repeating: "a", count: limit.max))
            #expect(rules.problem(title: t1, description: d1, tags: []) == nil, "\(name).\(field) at \(limit.max)")
            let (t2, d2) = make(String(repeating: "a", count: limit.max + 1))
            let p = rules.problem(title: t2, description: d2, tags: [])
            #expect(p?.field == field && p?.code == .textTooLong, "\(name).\(field): \(String(describing: p))")
            #expect(p?.message.contains("\(limit.max + 1)") == true && p?.message.contains("allows \(limit.max)") == true, "\(String(describing: p?.message))")
        }
        for limit in rules.title?.limits ?? [] { holds(.title, limit) { ($0, "") } }
        for limit in rules.description?.limits ?? [] { holds(.description, limit) { ("t", $0) } }
        if let caption = rules.caption {
            // The caption is counted as composed: a lone part is the whole caption.
            let onlyPart = caption.compose.from.first!
            for limit in caption.limits { holds(.caption, limit) { onlyPart == .title ? ($0, "") : ("", $0) } }
            // The adapter posts the same text validation counted.
            let m = PublishMetadata(title: "T", description: "D", tags: ["one two", "#three"], privacy: .public, publishAt: nil, options: [:])
            var carried = m
            carried.text = rules
            #expect(carried.caption(platform: profile.platform) == caption.compose.compose(title: "T", description: "D", tags: m.tags))
        }
    }

    /// Each platform's privacy words and override keys are its descriptor's: the registry's table is built
    /// from them, a sidecar may set exactly those keys (a value outside an option's allowed ones is refused
    /// at its line), and the adapter refuses exactly the privacy words the descriptor lacks.
    @Test(arguments: platformNames) func privacyAndOverrideKeysComeFromTheDescriptor(_ platform: String) throws {
        let facts = try #require(PlatformRegistry.descriptor(platform)?.facts)
        let table = try #require(PlatformRegistry.rules[platform])
        #expect(table.optionKeys == facts.optionKeys && table.privacy == facts.privacy)
        for rule in facts.options {
            let good: String, bad: String?
            switch rule.values {
            case .text: (good, bad) = ("value", nil)
            case .bool: (good, bad) = ("true", "maybe")
            case .integer: (good, bad) = ("22", "twenty")
            case .oneOf(let words): (good, bad) = (words[0], words[0] + "x")
            case .list(let max): (good, bad) = ((1...max).map { "u\($0)" }.joined(separator: ","), (0...max).map { "u\($0)" }.joined(separator: ","))
            case .pattern(_, _, let example): (good, bad) = (example, example + " x")
            }
            let ok = try Manifest.parse(text: "title: t\noverrides:\n  \(platform):\n    \(rule.key): \"\(good)\"\n", file: "s.yaml")
            #expect(PlatformRegistry.rules.problems(of: ok).isEmpty, "\(platform).\(rule.key) = \(good)")
            if let bad {
                let refused = try Manifest.parse(text: "title: t\noverrides:\n  \(platform):\n    \(rule.key): \"\(bad)\"\n", file: "s.yaml")
                let e = try #require(PlatformRegistry.rules.problems(of: refused).first)
                #expect(e.code == .invalidValue && e.location?.line == 4, "\(e)")
                let m = PublishMetadata(title: "t", description: "", tags: [], privacy: .public, publishAt: nil, options: [rule.key: bad])
                #expect(Self.adapter(platform).preflight(m)?.code == .invalidValue)
            }
        }
        let unknown = try Manifest.parse(text: "overrides: {\(platform): {zz_not_a_key: 1}}\n", file: "s.yaml")
        #expect(PlatformRegistry.rules.problems(of: unknown).first?.code == .unknownKey)
        let adapter = Self.adapter(platform)
        for p in Privacy.allCases {
            let said = adapter.preflight(PublishMetadata(title: "t", description: "", tags: [], privacy: p, publishAt: nil, options: [:]))
            let refused = said?.message.hasPrefix("privacy '\(p.rawValue)'") == true
            let exists = facts.privacy.map { $0[p] != nil } ?? true
            #expect(refused == !exists, "\(platform) \(p): \(String(describing: said?.message))")
        }
    }

    /// Facebook's scheduling window (10 minutes to 75 days) is its descriptor's: the adapter refuses past
    /// its far end and schedules only past its near end, and a window changed in the data moves both.
    @Test func aScheduleWindowIsTheDescriptorsAndMovesTheCheck() throws {
        let facts = try #require(PlatformRegistry.descriptor("facebook")?.facts)
        let window = try #require(facts.schedule)
        #expect(window == ScheduleWindow(minAhead: 600, maxAhead: 75 * 86400))
        let day: TimeInterval = 86400
        func meta(_ ahead: TimeInterval) -> PublishMetadata {
            PublishMetadata(title: "t", description: "", tags: [], privacy: .public, publishAt: Date().addingTimeInterval(ahead), options: [:])
        }
        let adapter = Self.adapter("facebook")
        #expect(adapter.preflight(meta(70 * day)) == nil)
        let far = adapter.preflight(meta(80 * day))
        #expect(far?.code == .invalidValue && far?.message.contains("at most 75 days ahead") == true, "\(String(describing: far))")
        // Platforms that hold a post until its time have no window.
        #expect(Self.adapter("youtube").preflight(meta(400 * day)) == nil)
        // The same data, changed: 90 days take the 80-day post; a 1-hour near end publishes a 30-minute one now.
        let wider = ScheduleWindow(minAhead: 3600, maxAhead: 90 * day)
        #expect(wider.problem(Date().addingTimeInterval(80 * day), displayName: "Facebook") == nil)
        #expect(window.schedules(Date().addingTimeInterval(1800)) && !wider.schedules(Date().addingTimeInterval(1800)))
    }

    /// Reddit's subreddit name is its descriptor's pattern: the override check at the sidecar's line, the
    /// account's setting and the name the adapter posts to all read it, so a changed pattern moves all three.
    @Test func aSubredditPatternIsTheDescriptorsAndMovesTheCheck() throws {
        let facts = try #require(PlatformRegistry.descriptor("reddit")?.facts)
        let drop = try Manifest.parse(text: "title: t\noverrides:\n  reddit:\n    subreddit: \"ab\"\n", file: "s.yaml")
        let refused = try #require(PlatformRules([facts]).problems(of: drop).first)
        #expect(refused.message.contains("is not a subreddit name") && refused.location?.line == 4, "\(refused)")
        #expect(RedditPlatform.subredditName("ab") == nil && RedditPlatform.subredditName(" /r/Videos ") == "Videos")
        var changed = facts
        changed.options = facts.options.map { rule in
            rule.key == "subreddit" ? OptionRule("subreddit", .pattern("^(?i:/?r/)?[A-Za-z0-9_]{2,21}$", means: "a name", example: "r/ab")) : rule
        }
        #expect(PlatformRules([changed]).problems(of: drop).isEmpty)
        #expect(RedditPlatform.subredditName("r/ab", facts: changed) == "ab")
    }

    /// Part sizes and the status pace are descriptor data: an adapter brings any configured chunk size
    /// within its platform's `parts` (and onto its multiple), and waits for processing at its `statusPolling`.
    @Test(arguments: platformNames) func partSizesAndStatusPaceAreTheDescriptors(_ platform: String) throws {
        let d = try #require(PlatformRegistry.descriptor(platform))
        guard let adapter = Self.adapter(platform) as? any DescribedAdapter else { return }
        if let parts = d.parts {
            for asked: Int64 in [1, 3 * 1_048_576 + 17, 1 << 40] {
                let settings = AdapterSettings(
                    account: adapter.account, tokens: TokenProvider(account: adapter.account, http: HTTPClient.shared, store: MemoryTokenStore()),
                    http: HTTPClient.shared, chunkSize: asked)
                let size = try #require(PlatformRegistry.makeAdapter(platform: platform, settings: settings) as? any DescribedAdapter).partSize
                #expect(size == parts.fit(asked) && size >= parts.min && size <= parts.max && size % parts.multiple == 0, "\(platform) \(asked) → \(size)")
            }
        }
        if let pace = d.statusPolling, let engine = adapter as? any ResumableAdapter {
            #expect(engine.processing.policy == pace, "\(platform)")
        }
        #expect(adapter.schedulesNatively == d.capabilities.nativeScheduling && adapter.platform == d.name)
    }

    /// A changed part-size rule moves the size: TikTok's 5 MiB floor raised, X's segments capped lower.
    @Test func aChangedPartSizeMovesTheChunk() {
        #expect(PartSizes(min: 8 << 20, max: 64_000_000).fit(5 << 20) == 8 << 20)
        #expect(PartSizes(min: 1 << 20, max: 2 << 20).fit(4 << 20) == 2 << 20)
        #expect(PartSizes(min: 262_144, multiple: 262_144).fit(1_000_000) == 786_432)
        // TikTok's chunk arithmetic reads the count from the same data: 1,000 at most, else larger chunks.
        let tiktok = TikTokPlatform.descriptor.parts!
        let big: Int64 = 6_000_000_000
        #expect(TikTokAdapter.chunks(size: big, preferred: 5 << 20, parts: tiktok).count <= 1000)
        var fewer = tiktok
        fewer.maxCount = 100
        #expect(TikTokAdapter.chunks(size: 1_000_000_000, preferred: 5 << 20, parts: fewer).count <= 100)
    }

    /// A profiles file from before text rules were data still loads as the same rules; `caption_max` keeps
    /// the platform's own way of composing and counting; mixing the two forms is refused at its line.
    @Test func olderFlatTextKeysLoadAsTheSameRules() throws {
        func profile(_ text: String, platform: String = "x") throws -> Profile {
            let catalog = try ProfileCatalog.parse(
                text: """
                    profiles:
                      mine:
                        platform: \(platform)
                        accepts: {containers: [mp4], video_codecs: [], audio_codecs: [], pixel_formats: [], width: [1, 9], height: [1, 9], aspect: [0.1, 9], fps: [1, 60], duration_s: [0, 9], max_bytes: 9, audio: {}, moov_first: false}
                        recommends: {}
                        text: \(text)
                    """, file: "mine.yaml")
            return try #require(catalog["mine"])
        }
        let old = try profile(#"{title_max: 100, title_forbidden: "<>", description_max_bytes: 5000, tags_total_max: 500}"#, platform: "youtube")
        let bundled = try #require(Self.catalog["youtube"]).text
        #expect(old.text.title == bundled.title && old.text.description?.limits == bundled.description?.limits && old.text.tags == bundled.tags)
        let x = try profile("{caption_max: 20}")
        #expect(x.text.caption?.limits == [TextLimit(max: 20, counts: .xWeighted)] && x.text.caption?.compose == Self.catalog["x"]?.text.caption?.compose)
        let mixed = #expect(throws: OmniError.self) { try profile("{caption_max: 20, caption: {max: 30}}") }
        #expect(mixed?.message.contains("mixes") == true && mixed?.location?.line == 6, "\(String(describing: mixed))")
        let typo = #expect(throws: OmniError.self) { try profile("{caption: {max: 30, counts: graphemez}}") }
        #expect(typo?.message.contains("did you mean 'graphemes'") == true, "\(String(describing: typo))")
        let several = try profile("{caption: {max: {graphemes: 300, bytes: 3000}}}")
        #expect(several.text.caption?.limits == [TextLimit(max: 300, counts: .graphemes), TextLimit(max: 3000, counts: .bytes)])
    }
}
