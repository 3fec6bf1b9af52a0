import Foundation
import NIOCore
import OmniPostCore

/// YouTube as a unit: the recipe for a platform. The descriptor says where the API and token endpoint
/// are and how accounts authorize; `makeAdapter` brings the shared settings within YouTube's own rules.
package enum YouTubePlatform: PlatformModule {
    package static let descriptor = PlatformDescriptor(
        name: "youtube", displayName: "YouTube", apiRoot: "https://www.googleapis.com",
        // Offline access for a refresh token; consent every time, or Google hands no new refresh token.
        oauth: {
            var o = PlatformDescriptor.OAuth(
                authorizeURL: "https://accounts.google.com/o/oauth2/v2/auth", tokenURL: "https://oauth2.googleapis.com/token",
                // force-ssl: captions.insert and captions.list (their documented scope).
                scopes: [
                    "https://www.googleapis.com/auth/youtube.upload", "https://www.googleapis.com/auth/youtube.readonly",
                    "https://www.googleapis.com/auth/youtube.force-ssl"
                ])
            // Watch time and shares come from YouTube Analytics, under a scope of its own; publishing does not need it.
            o.insightsScopes = ["https://www.googleapis.com/auth/yt-analytics.readonly"]
            o.authorizeParameters = ["access_type": "offline", "prompt": "consent"]
            o.deviceAuthorizationURL = "https://oauth2.googleapis.com/device/code"
            o.sandboxDevicePath = "/device/code"
            return o
        }(),
        sandboxTokenPath: "/token",
        capabilities: .init(
            upload: "resumable, 256 KiB-multiple chunks; resumes from the server's `Range`", nativeScheduling: true,
            covers: "image (`thumbnails.set`)", reconcile: "`bytes */T` status query",
            quotas: "10,000 units/day, 1,600 per insert (Pacific midnight)"),
        facts: PlatformFacts(
            platform: "youtube", displayName: "YouTube",
            privacy: [.public: "public", .unlisted: "unlisted", .private: "private"],
            options: [
                // No `playlist` key: it was never read (playlists are the sidecar's `playlists:`, follow-ups),
                // so `overrides: {youtube: {playlist: …}}` is an unknown key at its line, not taken and ignored.
                .init("category_id", .integer), .init("made_for_kids", .bool),
                .init("contains_synthetic_media", .bool), .init("notify_subscribers", .bool),
                // The video's own settings (videos.insert: snippet.defaultLanguage, status.license, status.embeddable),
                // and its category by name (the assignable categories of videoCategories.list, region US).
                .init("default_language", .pattern(#"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"#, means: "a BCP-47 language tag", example: "pt-BR")),
                .init("category", .oneOf(YouTubePlatform.categories.keys.sorted())), .init("license", .oneOf(["youtube", "creativeCommon"])),
                .init("embeddable", .bool)
            ]),
        // A resumable upload's chunks are multiples of 256 KiB (the last one aside).
        parts: PartSizes(min: 262_144, multiple: 262_144),
        // videos.list: 50 ids a call, 1 unit of the day's 10,000.
        readBack: .reads(batch: 50, cost: 1, rule: "upload_units"))
        .following([.subtitles, .playlist, .firstComment])
        // YouTube Analytics: the read-back's 50 ids in one report; each report is a unit of the account's
        // `analytics_queries` rule (profiles.yaml), a quota of its own beside the Data API's.
        .withInsights(
            Insights(
                api: "youtubeAnalytics.reports.query", batch: 50, cost: 1, rule: "analytics_queries",
                permission: "https://www.googleapis.com/auth/yt-analytics.readonly",
                gives: ["shares", "watch_seconds", "average_view_seconds"]))

    /// The categories a video may be filed under, by the names `overrides: {youtube: {category: …}}` takes,
    /// with YouTube's ids (videoCategories.list, assignable ones).
    package static let categories: [String: String] = [
        "film": "1", "autos": "2", "music": "10", "pets": "15", "sports": "17", "travel": "19", "gaming": "20", "people": "22",
        "comedy": "23", "entertainment": "24", "news": "25", "howto": "26", "education": "27", "science": "28", "nonprofits": "29"
    ]

    package static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        YouTubeAdapter(settings)
    }

    /// The channel the token posts to.
    package static func whoAmI(_ settings: AdapterSettings) async throws -> AccountIdentity? {
        let r = try await settings.api.send(url: settings.account.endpoint + "/youtube/v3/channels?part=snippet&mine=true", method: .GET, headers: [], body: ByteBuffer())
        struct Channels: Decodable {
            struct Channel: Decodable {
                struct Snippet: Decodable { var title: String? }
                var id: String
                var snippet: Snippet?
            }
            var items: [Channel]?
        }
        guard r.status == 200, let c = r.decoded(Channels.self)?.items?.first else {
            throw DeliveryError(
                r.status == 401 ? .reauthenticate : .retryNow, .authRevoked, "YouTube answered \(r.status) when asked for the token's channel", httpStatus: r.status)
        }
        return AccountIdentity(id: c.id, name: c.snippet?.title ?? c.id)
    }
}
