import Foundation
import NIOCore
import OmniPostCore

/// X as a unit. X's token endpoint wants the confidential client in HTTP Basic, and it rotates
/// refresh tokens strictly (a used one is dead at once): the newest is stored before it is used.
package enum XPlatform: PlatformModule {
    package static let descriptor = PlatformDescriptor(
        name: "x", displayName: "X", apiRoot: "https://api.x.com",
        oauth: .init(
            authorizeURL: "https://x.com/i/oauth2/authorize", tokenURL: "https://api.x.com/2/oauth2/token",
            scopes: ["tweet.read", "tweet.write", "users.read", "media.write", "offline.access"],
            rotatesRefreshTokens: true, clientAuthentication: .basic),
        sandboxTokenPath: "/2/oauth2/token",
        accountFields: ["client_id", "client_secret", "refresh_token (from a grant with offline.access)"],
        capabilities: .init(
            upload: "v2 chunked: initialize → append 4 MiB segments → finalize; resumes at the next unconfirmed segment",
            nativeScheduling: false, covers: "none (X picks the frame)",
            reconcile: "the account's recent posts, searched for the upload's media key",
            quotas: "17 posts/24 h (free tier); 429 waits for `x-rate-limit-reset`"),
        facts: PlatformFacts(
            platform: "x", displayName: "X", privacy: [.public: "public"],
            privacyNote: "every post is public (limit replies with overrides: {x: {reply_settings: following}})",
            options: [.init("reply_settings", .oneOf(["following", "mentionedUsers", "subscribers", "verified"])), .init("media_category")]),
        // X takes APPEND segments of at most 5 MB; 1–4 MiB keeps well inside it.
        parts: PartSizes(min: 1_048_576, max: 4 * 1_048_576),
        // Post lookup: 100 ids a request.
        readBack: .reads(batch: 100, cost: 1))
        .following([.firstComment])

    package static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        XAdapter(settings)
    }

    package static func whoAmI(_ settings: AdapterSettings) async throws -> AccountIdentity? {
        let r = try await settings.api.send(url: settings.account.endpoint + "/2/users/me", method: .GET, headers: [], body: ByteBuffer())
        guard r.status == 200, let u = r.decoded(XWire.Envelope<XWire.User>.self)?.data else {
            throw DeliveryError(r.status == 401 ? .reauthenticate : .retryNow, .authRevoked, "X answered \(r.status) when asked who the token is", httpStatus: r.status)
        }
        return AccountIdentity(id: u.id, name: "@" + (u.username ?? u.id))
    }
}
