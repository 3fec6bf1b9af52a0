import Foundation
import NIOCore
import OmniPostCore

/// Instagram Reels as a unit. Meta's long-lived tokens are exchanged for new ones, not refreshed with a
/// refresh token: the account's `refresh_token` holds the long-lived token, and each exchange replaces it.
package enum InstagramPlatform: PlatformModule {
    package static let descriptor = PlatformDescriptor(
        name: "instagram", displayName: "Instagram Reels", apiRoot: "https://graph.facebook.com",
        // instagram_manage_comments: a first comment (the comments edge's documented permission).
        oauth: .meta(
            scopes: ["instagram_basic", "instagram_content_publish", "pages_show_list", "pages_read_engagement", "instagram_manage_comments"],
            insights: ["instagram_manage_insights"]),
        sandboxTokenPath: "/oauth/access_token", defaultProfile: "instagram_reels",
        accountFields: ["client_id (app id)", "client_secret (app secret)", "refresh_token (a long-lived user token)", "id (the Instagram user id)"],
        capabilities: .init(
            upload: "REELS container, `upload_type=resumable`; bytes to rupload with `offset`/`file_size`, resumed from the last confirmed chunk",
            nativeScheduling: false, covers: "frame time (`thumb_offset`); a cover file as `cover_url`, put on the media host",
            reconcile: "the container's `status_code` (PUBLISHED)",
            quotas: "read at run time from `content_publishing_limit` (25/50/100 in different sources; 25 bundled) and held to by the queue gate"),
        facts: PlatformFacts(
            platform: "instagram", displayName: "Instagram", place: "for Instagram Reels", privacy: [.public: "public"],
            privacyNote: "a professional account's reels are public",
            options: [.init("share_to_feed", .bool), .init("collaborators", .list(max: 3)), .init("location_id")]),
        parts: GraphAPI.ruploadParts, statusPolling: GraphAPI.statusPolling)
        .following([.firstComment])
        // The media's insights: views, reach (as given), saves and shares, one call per reel.
        .withInsights(
            Insights(
                api: "/{ig-media-id}/insights", permission: "instagram_manage_insights", gives: ["views", "reach", "saves", "shares"]))

    package static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        InstagramAdapter(settings)
    }

    /// The Instagram professional accounts the grant reaches, through the Pages they are linked to.
    package static func choices(_ settings: AdapterSettings) async throws -> [AccountIdentity] {
        let r = try await settings.api.send(
            url: settings.account.endpoint + "/\(GraphAPI.version)/me/accounts?fields=name,instagram_business_account%7Bid,username%7D",
            method: .GET, headers: [], body: ByteBuffer())
        guard r.status == 200 else { throw DeliveryError(.reauthenticate, .authRevoked, "Instagram answered \(r.status) when asked for the user's accounts", httpStatus: r.status) }
        struct Pages: Decodable {
            struct Page: Decodable { var instagram_business_account: Account? }
            struct Account: Decodable {
                var id: String
                var username: String?
            }
            var data: [Page]?
        }
        return (r.decoded(Pages.self)?.data ?? []).compactMap { p in
            p.instagram_business_account.map { AccountIdentity(id: $0.id, name: "@" + ($0.username ?? $0.id)) }
        }
    }

    package static func remainingQuota(_ settings: AdapterSettings) async throws -> String? {
        let a = InstagramAdapter(settings)
        let user = try await a.container.userID(settings.account)
        return try await a.container.publishingLimit("/\(user)/content_publishing_limit").map { "\($0.total - $0.used) of \($0.total) posts left in 24 h" }
    }

    /// The account posts go to: `id:`, else the first the grant reaches.
    package static func whoAmI(_ settings: AdapterSettings) async throws -> AccountIdentity? {
        try AccountIdentity.chosen(
            try await choices(settings), by: settings.account, what: "Instagram account",
            none: "the grant reaches no Instagram professional account (one linked to a Facebook Page)")
    }
}
