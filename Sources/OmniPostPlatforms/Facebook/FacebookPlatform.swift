import Foundation
import NIOCore
import OmniPostCore

/// Facebook Page Reels as a unit. Tokens are Meta's: the account's `refresh_token` is a long-lived user
/// token (exchanged for a new one as it ages), from which the Page's own token is read per upload.
package enum FacebookPlatform: PlatformModule {
    package static let descriptor = PlatformDescriptor(
        name: "facebook", displayName: "Facebook Page Reels", apiRoot: "https://graph.facebook.com",
        // pages_manage_engagement: a first comment as the Page (Object Comments: its documented permission).
        oauth: .meta(scopes: ["pages_show_list", "pages_read_engagement", "pages_manage_posts", "pages_manage_engagement"], insights: ["read_insights"]),
        sandboxTokenPath: "/oauth/access_token", defaultProfile: "facebook_reels",
        accountFields: ["client_id (app id)", "client_secret (app secret)", "refresh_token (a long-lived user token)", "id (the Page id; default: the user's first Page)"],
        capabilities: .init(
            upload: "`video_reels` start → rupload with `offset`/`file_size`, resumed from `bytes_transferred` → finish",
            nativeScheduling: true, covers: "none",
            reconcile: "the video's `status` (`publishing_phase`)",
            quotas: "30 API reels/24 h per Page"),
        // A Page schedules a reel between 10 minutes and 75 days ahead (video_reels, `scheduled_publish_time`).
        facts: PlatformFacts(
            platform: "facebook", displayName: "Facebook", place: "for a Page's reels", privacy: [.public: "public"], privacyNote: "they are public",
            schedule: ScheduleWindow(minAhead: 600, maxAhead: 75 * 86400)),
        parts: GraphAPI.ruploadParts, statusPolling: GraphAPI.statusPolling)
        .following([.subtitles, .firstComment])
        // The video's insights: views and watch time (milliseconds on the wire), one call per reel.
        .withInsights(
            Insights(
                api: "/{video-id}/video_insights", permission: "read_insights", gives: ["views", "watch_seconds", "average_view_seconds"]))

    package static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        FacebookAdapter(settings)
    }

    /// The Pages the grant reaches (what `id:` chooses among).
    package static func choices(_ settings: AdapterSettings) async throws -> [AccountIdentity] {
        let r = try await settings.api.send(url: settings.account.endpoint + "/\(GraphAPI.version)/me/accounts?fields=id,name", method: .GET, headers: [], body: ByteBuffer())
        guard r.status == 200 else { throw DeliveryError(.reauthenticate, .authRevoked, "Facebook answered \(r.status) when asked for the user's Pages", httpStatus: r.status) }
        struct Pages: Decodable {
            struct Page: Decodable {
                var id: String
                var name: String?
            }
            var data: [Page]?
        }
        return (r.decoded(Pages.self)?.data ?? []).map { AccountIdentity(id: $0.id, name: $0.name ?? $0.id) }
    }

    /// The Page posts go to: the account's `id:`, else the user's first.
    package static func whoAmI(_ settings: AdapterSettings) async throws -> AccountIdentity? {
        try AccountIdentity.chosen(
            try await choices(settings), by: settings.account, what: "Page",
            none: "the grant reaches no Facebook Page; the user must manage one and allow it at consent")
    }
}
