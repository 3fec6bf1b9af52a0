import Crypto
import Foundation

extension SandboxState {
    /// What the sandbox's consent page answers for a platform: a grant (as `user`, with every scope
    /// asked for or only `scopes`), or a refusal (the person clicked Deny).
    public enum Consent: Sendable {
        case grant(user: String, scopes: [String]?)
        case deny
    }

    struct OAuthCode: Sendable {
        var platform: String
        var user: String
        var clientID: String
        var redirect: String
        var challenge: String
        var scopes: [String]
        var issued: Date
        var used = false
        /// The refresh token it was redeemed for (revoked if the code is presented again).
        var refreshToken: String?
    }

    public func setConsent(platform: String, _ c: Consent) { consents[platform] = c }

    enum AuthorizeResult { case code(String), denied, invalidClient, invalidRequest(String) }

    func authorize(platform: String, clientID: String, redirect: String, scope: String, challenge: String, method: String) -> AuthorizeResult {
        guard accounts.values.contains(where: { $0.platform == platform && $0.clientID == clientID }) else { return .invalidClient }
        guard !challenge.isEmpty, method == "S256" else { return .invalidRequest("code_challenge with code_challenge_method=S256 is required") }
        let asked = scope.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        switch consents[platform] ?? .grant(user: "sandbox-user", scopes: nil) {
        case .deny: return .denied
        case .grant(let user, let scopes):
            let code = "code." + SandboxState.randomID(24)
            oauthCodes[code] = OAuthCode(platform: platform, user: user, clientID: clientID, redirect: redirect, challenge: challenge,
                                         scopes: scopes ?? asked, issued: Date())
            return .code(code)
        }
    }

    enum RedeemResult { case ok(access: String, refresh: String, expires: Int, scopes: [String], user: String), invalidClient, invalidGrant(String) }

    /// RFC 6749 §4.1.3 with RFC 7636: the code once, for the client it was issued to, with the same
    /// redirect, within 10 minutes, and the verifier whose S256 is the challenge. A code presented twice
    /// is refused and what it was redeemed for is revoked.
    func redeem(code: String, clientID: String, clientSecret: String, redirect: String, verifier: String) -> RedeemResult {
        guard var c = oauthCodes[code] else { return .invalidGrant("the authorization code is unknown") }
        guard let client = accounts.values.first(where: { $0.platform == c.platform && $0.clientID == clientID }), client.clientSecret == clientSecret else {
            return .invalidClient
        }
        if c.used {
            if let rt = c.refreshToken { accounts[rt]?.revoked = true }
            return .invalidGrant("the authorization code was already used")
        }
        c.used = true
        oauthCodes[code] = c
        guard c.clientID == clientID else { return .invalidGrant("the code was issued to another client") }
        guard c.redirect == redirect else { return .invalidGrant("redirect_uri does not match the authorization request") }
        guard Date().timeIntervalSince(c.issued) < 600 else { return .invalidGrant("the authorization code expired") }
        let hash = Data(SHA256.hash(data: Data(verifier.utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        guard hash == c.challenge else { return .invalidGrant("code_verifier does not match the code_challenge") }
        let refresh = "rt." + SandboxState.randomID(32)
        register(Account(platform: c.platform, name: c.user, clientID: client.clientID, clientSecret: client.clientSecret, refreshToken: refresh))
        c.refreshToken = refresh
        oauthCodes[code] = c
        let access = "sbx." + SandboxState.randomID(32)
        tokens[access] = Token(account: "\(c.platform):\(c.user)", expires: Date().addingTimeInterval(accessTokenLifetime))
        return .ok(access: access, refresh: refresh, expires: Int(accessTokenLifetime), scopes: c.scopes, user: c.user)
    }
}
