import Foundation

/// What a sidecar may say to each platform, as the platforms' descriptors declare it: the privacy words
/// a platform has (and its own word for each), the option keys `overrides:` may set with their allowed
/// values, and the options a post cannot go without. Core cannot see the platforms, so the registry builds
/// this table from its descriptors and hands it to whoever reads sidecars (`PlatformRegistry.rules`).
package struct PlatformRules: Sendable {
    package var platforms: [String: PlatformFacts]

    package init(_ platforms: [PlatformFacts]) {
        self.platforms = Dictionary(platforms.map { ($0.platform, $0) }) { a, _ in a }
    }

    package subscript(platform: String) -> PlatformFacts? { platforms[platform] }
}

/// One platform's sidecar-facing facts (a descriptor's `facts`).
package struct PlatformFacts: Sendable {
    package var platform: String
    /// As users know it: "X", "Instagram Reels".
    package var displayName: String
    /// Where a privacy word is missing, in a message: "on X" unless said ("for a Page's reels").
    package var place: String
    /// Our privacy words the platform has, each with the platform's own word for it (TikTok's
    /// `SELF_ONLY` for private). Nil: the platform has no privacy at all (a folder, a bucket), so any is taken.
    package var privacy: [Privacy: String]?
    /// Why the missing privacy words are missing ("every post is public"); nil lists the ones it has.
    package var privacyNote: String?
    /// An option that names the platform's own privacy word directly, and wins over the mapping (TikTok's `privacy_level`).
    package var privacyOption: String?
    /// The keys `overrides: {<platform>: …}` may set besides the common ones, with their allowed values.
    package var options: [OptionRule]
    /// Options a post cannot go without; an account setting of the same name stands in for one (Reddit's subreddit).
    package var required: [String]
    /// How far ahead the platform publishes a post by itself, where it schedules natively (a Facebook
    /// Page: 10 minutes to 75 days); nil where OmniPost holds a post until its time (no limit).
    package var schedule: ScheduleWindow?

    package init(
        platform: String, displayName: String, place: String? = nil, privacy: [Privacy: String]? = nil, privacyNote: String? = nil,
        privacyOption: String? = nil, options: [OptionRule] = [], required: [String] = [], schedule: ScheduleWindow? = nil
    ) {
        self.platform = platform
        self.displayName = displayName
        self.place = place ?? "on \(displayName)"
        self.privacy = privacy
        self.privacyNote = privacyNote
        self.privacyOption = privacyOption
        self.options = options
        self.required = required
        self.schedule = schedule
    }

    /// Keys every platform's overrides may set: the sidecar's own text fields and privacy.
    package static let commonOptionKeys = ["title", "description", "tags", "privacy"]
    /// Options every platform's overrides may set, with their values: `burn_subtitles` (this target burns
    /// the first subtitle track into its picture, or — `false` — does not, whatever the sidecar says).
    package static let commonOptions: [OptionRule] = [OptionRule("burn_subtitles", .bool)]

    package var optionKeys: [String] { Self.commonOptionKeys + Self.commonOptions.map(\.key) + options.map(\.key) }

    /// The platform's word for this post's privacy: the privacy option if set, else the mapped word;
    /// nil when the platform has no such privacy.
    package func privacyWord(_ privacy: Privacy, options: [String: String]) -> String? {
        if let key = privacyOption, let word = options[key] { return word }
        guard let map = self.privacy else { return privacy.rawValue }
        return map[privacy]
    }

    /// Why this privacy cannot be had here; nil when it can.
    package func privacyProblem(_ p: Privacy, options: [String: String]) -> String? {
        guard let map = privacy, privacyWord(p, options: options) == nil else { return nil }
        let why = privacyNote ?? "(\(Privacy.allCases.filter { map[$0] != nil }.map(\.rawValue).joined(separator: ", ")))"
        return "privacy '\(p.rawValue)' does not exist \(place)\(privacyNote == nil ? " " : ": ")\(why)"
    }

    /// Why an option's value is not one the platform takes; nil when it is (or the key is not a platform option).
    package func optionProblem(_ key: String, _ value: String) -> String? {
        guard let rule = (Self.commonOptions + options).first(where: { $0.key == key }) else { return nil }
        return rule.values.problem(value).map { "\(platform) \(key) \($0)" }
    }
}

/// The nearest and furthest a platform schedules a post ahead of now.
package struct ScheduleWindow: Sendable, Equatable {
    /// Nearer than this, the platform will not schedule: the post is published at once.
    package var minAhead: TimeInterval
    /// Further than this is refused.
    package var maxAhead: TimeInterval
    package init(minAhead: TimeInterval, maxAhead: TimeInterval) {
        self.minAhead = minAhead
        self.maxAhead = maxAhead
    }

    /// Whether a post for `at` is handed to the platform to publish then, rather than published now.
    package func schedules(_ at: Date?, now: Date = Date()) -> Bool {
        guard let at else { return false }
        return at.timeIntervalSince(now) > minAhead
    }

    /// Why `at` is too far ahead for `displayName`; nil when it is not.
    package func problem(_ at: Date?, displayName: String, now: Date = Date()) -> String? {
        guard let at, at.timeIntervalSince(now) > maxAhead else { return nil }
        let days = { (s: TimeInterval) in Int(s / 86400) }
        return "\(displayName) schedules at most \(days(maxAhead)) days ahead; publish_at is \(days(at.timeIntervalSince(now))) days away"
    }
}

/// A key a sidecar may set under `overrides: {<platform>: …}`, with what it may hold.
package struct OptionRule: Sendable, Equatable {
    package var key: String
    package var values: OptionValues
    package init(_ key: String, _ values: OptionValues = .text) {
        self.key = key
        self.values = values
    }
}

/// What an option may hold.
package enum OptionValues: Sendable, Equatable {
    /// Any text (a playlist id; its form is the platform's to judge, or the adapter's check).
    case text
    case bool
    case integer
    /// One of these words, exactly as the platform spells them.
    case oneOf([String])
    /// A comma-separated list of at most this many items.
    case list(max: Int)
    /// Text matching this regular expression as a whole (surrounding spaces aside): what it is in words,
    /// for the message, and one value that matches (Reddit's subreddit: 3–21 letters, digits or _).
    case pattern(String, means: String, example: String)

    /// Why `value` is not allowed: "'friends' is not one of following, mentionedUsers…"; nil when it is.
    package func problem(_ value: String) -> String? {
        let shown = Excerpt.quote(value)
        switch self {
        case .text: return nil
        case .bool: return ["true", "false"].contains(value.lowercased()) ? nil : "is true or false, not '\(shown)'"
        case .integer: return Int(value) != nil ? nil : "must be a number, found '\(shown)'"
        case .oneOf(let words):
            guard !words.contains(value) else { return nil }
            var msg = "'\(shown)' is not one of \(words.joined(separator: ", "))"
            if let g = DidYouMean.suggest(value, among: words) { msg += "; did you mean '\(g)'?" }
            return msg
        case .list(let max):
            let n = value.split(separator: ",").count
            return n <= max ? nil : "takes at most \(max), comma-separated; found \(n)"
        case .pattern(let regex, let means, let example):
            let v = value.trimmingCharacters(in: .whitespaces)
            return v.range(of: regex, options: .regularExpression) != nil ? nil : "'\(shown)' is not \(means), like \(example)"
        }
    }
}

extension PlatformRules {
    /// Every platform, key and value under a sidecar's `overrides:` that the platforms do not take, each at
    /// its line: an unknown platform or key with a did-you-mean, a value outside the option's allowed ones.
    package func problems(of manifest: Manifest, file: String? = nil) -> [OmniError] {
        var found: [OmniError] = []
        let at = manifest.overrideLocations ?? [:]
        let fallback = file.map { SourceLocation(file: $0) }
        for platform in manifest.overrides.keys.sorted() {
            guard let facts = platforms[platform] else {
                var msg = "unknown key '\(Excerpt.quote(platform))' under overrides"
                if let g = DidYouMean.suggest(platform, among: Array(platforms.keys)) {
                    msg += "; did you mean '\(g)'?"
                } else {
                    msg += "; allowed keys: \(platforms.keys.sorted().joined(separator: ", "))"
                }
                found.append(OmniError(.unknownKey, msg, at: at[platform] ?? fallback))
                continue
            }
            for (key, value) in manifest.overrides[platform, default: [:]].sorted(by: { $0.key < $1.key }) {
                let place = at[platform + "." + key] ?? at[platform] ?? fallback
                guard facts.optionKeys.contains(key) else {
                    var msg = "unknown key '\(Excerpt.quote(key))' under overrides.\(platform)"
                    if let g = DidYouMean.suggest(key, among: facts.optionKeys) {
                        msg += "; did you mean '\(g)'?"
                    } else {
                        msg += "; allowed keys: \(facts.optionKeys.sorted().joined(separator: ", "))"
                    }
                    found.append(OmniError(.unknownKey, msg, at: place))
                    continue
                }
                if let rule = (PlatformFacts.commonOptions + facts.options).first(where: { $0.key == key }), let why = rule.values.problem(value) {
                    found.append(OmniError(.invalidValue, "overrides.\(platform).\(key) \(why)", at: place))
                }
            }
        }
        return found
    }
}
