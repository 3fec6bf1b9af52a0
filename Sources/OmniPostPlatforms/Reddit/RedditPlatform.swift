import Foundation
import OmniPostCore

/// Reddit as a unit. An account is a "web app" or "script" client with a permanent refresh token
/// (authorized with `duration=permanent`); the token endpoint wants the client in HTTP Basic and may
/// answer an error inside an HTTP 200. Every request names the client in a User-Agent of Reddit's
/// format, or Reddit throttles it. Where a post goes is a subreddit: the account's `subreddit:`, or a
/// drop's `overrides: {reddit: {subreddit: …}}`.
package enum RedditPlatform: PlatformModule {
    package static let descriptor: PlatformDescriptor = {
        var d = PlatformDescriptor(
            name: "reddit", displayName: "Reddit", apiRoot: "https://oauth.reddit.com",
            oauth: .init(
                authorizeURL: "https://www.reddit.com/api/v1/authorize", tokenURL: "https://www.reddit.com/api/v1/access_token",
                scopes: ["identity", "submit", "read", "history"], clientAuthentication: .basic, authorizeParameters: ["duration": "permanent"]),
            sandboxTokenPath: "/api/v1/access_token",
            accountFields: [
                "client_id", "client_secret", "refresh_token (a grant with duration=permanent)", "subreddit (default; a drop may name another)",
                "username (your Reddit name, for the User-Agent)"
            ],
            capabilities: .init(
                upload: "media lease, then one form POST of the file (and a poster frame) to the lease's host; a cut upload is leased and sent again",
                nativeScheduling: false, covers: "poster image (the cover, or a frame OmniPost takes)",
                reconcile: "the account's submitted posts, searched for the video's asset or the title since the submit",
                quotas: "`X-Ratelimit-Remaining/Reset` honoured before each request; `RATELIMIT` in a 200 waits the minutes it names"),
            facts: PlatformFacts(
                platform: "reddit", displayName: "Reddit", privacy: [.public: "public"], privacyNote: "every post is public",
                // A subreddit's name: 3–21 letters, digits or _ (not starting with _), written `name`, `r/name` or `/r/name`.
                options: [
                    .init(
                        "subreddit",
                        .pattern(
                            "^(?i:/?r/)?[A-Za-z0-9][A-Za-z0-9_]{2,20}$", means: "a subreddit name (3–21 letters, digits or _)",
                            example: "r/videos")),
                    .init("flair_id"), .init("nsfw", .bool), .init("spoiler", .bool)
                ],
                required: ["subreddit"]))
        d.settings = ["subreddit", "username", "user_agent", "flair_id"]
        d.needsPoster = true
        d.sandboxTLS = true
        // by_id: 100 fullnames a call.
        d.readBack = .reads(batch: 100, cost: 0)
        return d.following([.firstComment])
    }()

    package static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        RedditAdapter(settings)
    }

    /// Why `raw` is not a subreddit's name, as the descriptor's `subreddit` option says; nil when it is one.
    static func subredditProblem(_ raw: String, facts: PlatformFacts = descriptor.facts) -> String? {
        facts.options.first { $0.key == "subreddit" }?.values.problem(raw)
    }

    /// The subreddit's bare name (without its `r/`), when `raw` is one.
    static func subredditName(_ raw: String) -> String? { subredditName(raw, facts: descriptor.facts) }

    static func subredditName(_ raw: String, facts: PlatformFacts) -> String? {
        guard subredditProblem(raw, facts: facts) == nil else { return nil }
        var s = raw.trimmingCharacters(in: .whitespaces)
        if s.lowercased().hasPrefix("/r/") { s = String(s.dropFirst(3)) } else if s.lowercased().hasPrefix("r/") { s = String(s.dropFirst(2)) }
        return s
    }

    package static func validate(_ account: AccountConfig, sandboxed: Bool) throws {
        if let n = account.setting("subreddit"), let why = subredditProblem(try n.string()) { throw n.fail(why) }
        if let n = account.setting("username") {
            let u = try n.string()
            if u.range(of: "^(u/)?[A-Za-z0-9_-]{3,20}$", options: .regularExpression) == nil { throw n.fail("'\(Excerpt.quote(u))' is not a Reddit username") }
        }
        if let n = account.setting("user_agent"), try n.string().count < 10 {
            throw n.fail("Reddit wants a descriptive User-Agent like `linux:com.example.poster:1.0 (by u/yourname)`; leave it out to have OmniPost make one")
        }
    }

    /// The sandbox's API and token endpoint; a subreddit of its own unless the file names one.
    package static func useSandbox(_ account: inout AccountConfig, base: String, root: URL) -> [SandboxGrant] {
        account.endpoint = base
        account.tokenURL = base + descriptor.sandboxTokenPath
        account.authorizeURL = base + "/sandbox/oauth/reddit/authorize"
        account.fillIn("subreddit", "omnipost_sandbox")
        return []
    }

    package static func whoAmI(_ settings: AdapterSettings) async throws -> AccountIdentity? {
        let api = RedditAPI(api: settings.api, base: settings.account.endpoint, userAgent: userAgent(for: settings.account) ?? Product.userAgent, window: RedditWindow())
        let r = try await api.send("/api/v1/me")
        guard r.status == 200, let me = r.decoded(RedditWire.Me.self) else { throw api.failure(r, during: "asking who the token is") }
        return AccountIdentity(id: me.id ?? me.name, name: "u/" + me.name)
    }

    /// Reddit's rule: `<platform>:<app ID>:<version> (by u/<reddit username>)`; a generic one is throttled.
    package static func userAgent(for account: AccountConfig) -> String? {
        if let ua = try? account.text("user_agent") { return ua }
        let user = (try? account.text("username")).map { $0.hasPrefix("u/") ? String($0.dropFirst(2)) : $0 }
        let app = account.clientID.isEmpty ? "omnipost" : account.clientID
        return "linux:\(app):\(Product.version) (\(Product.name)\(user.map { "; by u/\($0)" } ?? ""))"
    }
}
