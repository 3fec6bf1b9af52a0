/// What the descriptors of Meta's platforms share, said once.
extension PlatformDescriptor.OAuth {
    /// Meta's login (Facebook Page Reels and Instagram Reels): a code from the dialog read back with a
    /// Graph GET, and a long-lived token exchanged for a new one as it ages (`refresh_token` holds it).
    static func meta(scopes: [String], insights: [String] = []) -> Self {
        var o = Self(
            authorizeURL: "https://www.facebook.com/dialog/oauth", tokenURL: "https://graph.facebook.com/oauth/access_token",
            scopes: scopes, rotatesRefreshTokens: true, refreshStyle: .metaExchange)
        o.codeGrant = .graphGET
        o.scopeSeparator = ","
        o.insightsScopes = insights
        return o
    }
}

extension GraphAPI {
    /// Status reads every 3 s growing to 15 s, at most 20 a minute: Meta meters calls per hour per account.
    static let statusPolling = PollPolicy(first: .seconds(3), max: .seconds(15), factor: 1.5, perMinute: 20)
    /// The rupload host's chunks: 256 KiB to 64 MiB (our bounds; Meta names none).
    static let ruploadParts = PartSizes(min: 256 * 1024, max: 64 * 1_048_576)
}
