import Foundation
import NIOCore
import OmniPostCore

/// LinkedIn as a unit. Its token endpoint lives on www.linkedin.com, its API on api.linkedin.com; every
/// REST call names a dated `LinkedIn-Version`. Refresh tokens are not rotated (they last a year).
package enum LinkedInPlatform: PlatformModule {
    package static let descriptor = PlatformDescriptor(
        name: "linkedin", displayName: "LinkedIn", apiRoot: "https://api.linkedin.com",
        oauth: {
            var o = PlatformDescriptor.OAuth(
                authorizeURL: "https://www.linkedin.com/oauth/v2/authorization", tokenURL: "https://www.linkedin.com/oauth/v2/accessToken",
                scopes: ["openid", "profile", "w_member_social"])
            o.insightsScopes = ["r_member_postAnalytics"]
            return o
        }(),
        sandboxTokenPath: "/oauth/v2/accessToken",
        accountFields: ["client_id", "client_secret", "refresh_token", "id (author URN; default: the token's member)"],
        capabilities: .init(
            upload: "`initializeUpload` parts PUT as instructed, ETags kept; a resume re-sends only parts without an ETag",
            nativeScheduling: false, covers: "none",
            reconcile: "the author's posts, searched for the video URN",
            quotas: "150 posts/day (UTC); 429 waits for midnight UTC"),
        facts: PlatformFacts(
            platform: "linkedin", displayName: "LinkedIn", privacy: [.public: "PUBLIC", .followers: "CONNECTIONS", .friends: "CONNECTIONS"],
            privacyNote: "public, or followers and friends (both mean connections)"),
        // Video status is read at most every 2 s, growing to 15 s: LinkedIn meters calls per day.
        statusPolling: PollPolicy(first: .seconds(2), max: .seconds(15), factor: 1.5, perMinute: 30))
        .following([.firstComment])
        // A member's post's numbers: impressions, members reached, reactions, comments, reshares, one call each.
        .withInsights(
            Insights(
                api: "memberCreatorPostAnalytics", permission: "r_member_postAnalytics", gives: ["views", "reach", "likes", "comments", "shares"]))

    package static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        LinkedInAdapter(settings)
    }

    package static func whoAmI(_ settings: AdapterSettings) async throws -> AccountIdentity? {
        let r = try await settings.api.send(url: settings.account.endpoint + "/v2/userinfo", method: .GET, headers: [], body: ByteBuffer())
        // OpenID Connect's userinfo: `sub` is the member's id.
        struct UserInfo: Decodable {
            var sub: String
            var name: String?
        }
        guard r.status == 200, let u = r.decoded(UserInfo.self) else {
            throw DeliveryError(r.status == 401 ? .reauthenticate : .retryNow, .authRevoked, "LinkedIn answered \(r.status) when asked who the token is", httpStatus: r.status)
        }
        return AccountIdentity(id: "urn:li:person:" + u.sub, name: u.name ?? u.sub)
    }
}
