import Crypto
import Foundation

extension SandboxState {
    /// What the sandbox's consent page answers for a platform: a grant (as `user`, with every scope
    /// asked for or only `scopes`), or a refusal (the person clicked Deny).
    package enum Consent: Sendable {
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

    package func setConsent(platform: String, _ c: Consent) { consents[platform] = c }

    /// Whether `secret` is the app secret of the client `token` was issued to.
    func clientSecretMatches(token: String, secret: String) -> Bool { accounts[token]?.clientSecret == secret }

    enum AuthorizeResult { case code(String), denied, invalidClient, invalidRequest(String) }

    func authorize(platform: String, clientID: String, redirect: String, scope: String, challenge: String, method: String) -> AuthorizeResult {
        guard accounts.values.contains(where: { $0.platform == platform && $0.clientID == clientID }) else { return .invalidClient }
        guard !challenge.isEmpty, method == "S256" else { return .invalidRequest("code_challenge with code_challenge_method=S256 is required") }
        let asked = scope.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        switch consents[platform] ?? .grant(user: "sandbox-user", scopes: nil) {
        case .deny: return .denied
        case .grant(let user, let scopes):
            let code = "code." + SandboxState.randomID(24)
            oauthCodes[code] = OAuthCode(
                platform: platform, user: user, clientID: clientID, redirect: redirect, challenge: challenge,
                scopes: scopes ?? asked, issued: Date())
            return .code(code)
        }
    }

    enum RedeemResult { case ok(access: String, refresh: String, expires: Int, scopes: [String], user: String), invalidClient, invalidGrant(String) }

    /// RFC 6749 §4.1.3 with RFC 7636: the code once, for the client it was issued to, with the same
    /// redirect, within 10 minutes, and the verifier whose S256 is the challenge. A code presented twice
    /// is refused and what it was redeemed for is revoked.
    /// `shortLived` (Meta, Threads): the code gives one short-lived token, which their exchange endpoints
    /// then trade for a long-lived one.
    /// `unbound`: the platform's exchange names neither the redirect nor a verifier (Douyin's takes the
    /// client and the code only), so neither is checked.
    func redeem(
        code: String, clientID: String, clientSecret: String, redirect: String, verifier: String, shortLived: Bool = false, unbound: Bool = false
    ) -> RedeemResult {
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
        guard unbound || c.redirect == redirect else { return .invalidGrant("redirect_uri does not match the authorization request") }
        guard Date().timeIntervalSince(c.issued) < 600 else { return .invalidGrant("the authorization code expired") }
        let hash = Data(SHA256.hash(data: Data(verifier.utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        guard unbound || hash == c.challenge else { return .invalidGrant("code_verifier does not match the code_challenge") }
        let refresh = "rt." + SandboxState.randomID(32)
        register(Account(platform: c.platform, name: c.user, clientID: client.clientID, clientSecret: client.clientSecret, refreshToken: refresh))
        c.refreshToken = refresh
        oauthCodes[code] = c
        let access = shortLived ? refresh : "sbx." + SandboxState.randomID(32)
        tokens[access] = Token(account: "\(c.platform):\(c.user)", expires: Date().addingTimeInterval(accessTokenLifetime))
        return .ok(access: access, refresh: refresh, expires: Int(accessTokenLifetime), scopes: c.scopes, user: c.user)
    }
}

extension SandboxState {
    /// A device authorization (RFC 8628) waiting for a person to enter its user code.
    struct DeviceAuthorization: Sendable {
        var platform: String
        var clientID: String
        var userCode: String
        var scopes: [String]
        var expires: Date
        var approvedAs: String?
        var denied = false
        var redeemed = false
        var lastPoll: Date?
    }

    /// How the device endpoint times things (the tests shorten both).
    package func setDeviceTiming(interval: Int, lifetime: Int) {
        deviceInterval = interval
        deviceLifetime = lifetime
    }

    /// The next polls answered `slow_down` (a client polling too fast).
    package func slowDownNextDevicePolls(_ n: Int) { deviceSlowDowns = n }

    func startDevice(platform: String, clientID: String, scope: String) -> (device: String, user: String)? {
        guard accounts.values.contains(where: { $0.platform == platform && $0.clientID == clientID }) else { return nil }
        let device = "dev." + SandboxState.randomID(32)
        let letters = "BCDFGHJKLMNPQRSTVWXZ"
        let user = SandboxState.randomID(4, alphabet: letters) + "-" + SandboxState.randomID(4, alphabet: letters)
        deviceCodes[device] = DeviceAuthorization(
            platform: platform, clientID: clientID, userCode: user,
            scopes: scope.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init),
            expires: Date().addingTimeInterval(Double(deviceLifetime)))
        return (device, user)
    }

    /// What the person did on the other device.
    package func approveDevice(userCode: String, as user: String = "sandbox-user") {
        for (k, v) in deviceCodes where v.userCode == userCode { deviceCodes[k]?.approvedAs = user }
    }
    package func denyDevice(userCode: String) {
        for (k, v) in deviceCodes where v.userCode == userCode { deviceCodes[k]?.denied = true }
    }
    /// The user codes shown so far (what a test "types in").
    package func pendingUserCodes() -> [String] { deviceCodes.values.filter { $0.approvedAs == nil && !$0.denied }.map(\.userCode) }

    enum DevicePoll { case ok(access: String, refresh: String, expires: Int, scopes: [String]), pending, slowDown, expired, denied, invalidClient, invalidGrant }

    func pollDevice(_ device: String, clientID: String, clientSecret: String) -> DevicePoll {
        guard var d = deviceCodes[device] else { return .invalidGrant }
        guard let client = accounts.values.first(where: { $0.platform == d.platform && $0.clientID == clientID }), client.clientSecret == clientSecret else {
            return .invalidClient
        }
        let now = Date()
        defer { deviceCodes[device] = d }
        if d.redeemed { return .invalidGrant }
        if now > d.expires { return .expired }
        if d.denied { return .denied }
        // Faster than the interval given (with a little slack), or a slow_down injected.
        let tooSoon = d.lastPoll.map { now.timeIntervalSince($0) < Double(deviceInterval) - 0.2 } ?? false
        d.lastPoll = now
        if deviceSlowDowns > 0 || tooSoon {
            deviceSlowDowns = max(0, deviceSlowDowns - 1)
            return .slowDown
        }
        guard let user = d.approvedAs else { return .pending }
        d.redeemed = true
        let refresh = "rt." + SandboxState.randomID(32)
        register(Account(platform: d.platform, name: user, clientID: client.clientID, clientSecret: client.clientSecret, refreshToken: refresh))
        let access = "sbx." + SandboxState.randomID(32)
        tokens[access] = Token(account: "\(d.platform):\(user)", expires: now.addingTimeInterval(accessTokenLifetime))
        return .ok(access: access, refresh: refresh, expires: Int(accessTokenLifetime), scopes: d.scopes)
    }
}
