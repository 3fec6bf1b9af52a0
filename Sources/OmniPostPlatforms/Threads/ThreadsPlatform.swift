import Foundation
import NIOCore
import OmniPostCore

/// Threads as a unit: the Graph API on graph.threads.net (version v1.0), long-lived tokens refreshed by
/// `th_refresh_token`, and media fetched by Threads from the pipeline's `media_host:`.
package enum ThreadsPlatform: PlatformModule {
    package static let descriptor: PlatformDescriptor = {
        var d = PlatformDescriptor(
            name: "threads", displayName: "Threads", apiRoot: "https://graph.threads.net",
            oauth: {
                var o = PlatformDescriptor.OAuth(
                    authorizeURL: "https://threads.net/oauth/authorize", tokenURL: "https://graph.threads.net/refresh_access_token",
                    // threads_read_replies: a first comment (a reply) is found again after a lost answer.
                    scopes: ["threads_basic", "threads_content_publish", "threads_read_replies"], rotatesRefreshTokens: true,
                    refreshStyle: .threadsRefresh)
                o.codeGrant = .threadsPOST
                o.scopeSeparator = ","
                o.insightsScopes = ["threads_manage_insights"]
                return o
            }(),
            sandboxTokenPath: "/refresh_access_token",
            accountFields: ["refresh_token (a long-lived Threads token)", "id (the Threads user id; default: the token's user)", "media_host: in the pipeline"],
            capabilities: .init(
                upload: "rendition put on `media_host:` (an S3 bucket, or this daemon's listener), Threads fetches a signed link that expires",
                nativeScheduling: false, covers: "none",
                reconcile: "the container's `status` (PUBLISHED)",
                quotas: "250 posts/24 h (`threads_publishing_limit`, read at run time and held to by the queue gate)"),
            facts: PlatformFacts(platform: "threads", displayName: "Threads", privacy: [.public: "public"], privacyNote: "posts are public"),
            statusPolling: GraphAPI.statusPolling)
        d.needsMediaHost = true
        // Every number of a Threads post is an insight: views, likes, replies, reposts, quotes, shares.
        d.insights = Insights(
            api: "/{threads-media-id}/insights", permission: "threads_manage_insights", gives: ["views", "likes", "comments", "shares"])
        return d.following([.firstComment])
    }()

    package static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        ThreadsAdapter(settings)
    }

    package static func remainingQuota(_ settings: AdapterSettings) async throws -> String? {
        let a = ThreadsAdapter(settings)
        let user = try await a.container.userID(settings.account)
        return try await a.container.publishingLimit("/\(user)/threads_publishing_limit").map { "\($0.total - $0.used) of \($0.total) posts left in 24 h" }
    }

    package static func whoAmI(_ settings: AdapterSettings) async throws -> AccountIdentity? {
        let r = try await settings.api.send(url: settings.account.endpoint + "/v1.0/me?fields=id,username", method: .GET, headers: [], body: ByteBuffer())
        struct Me: Decodable {
            var id: String
            var username: String?
        }
        guard r.status == 200, let me = r.decoded(Me.self) else {
            throw DeliveryError(.reauthenticate, .authRevoked, "Threads answered \(r.status) when asked who the token is", httpStatus: r.status)
        }
        return AccountIdentity(id: me.id, name: "@" + (me.username ?? me.id))
    }
}
