import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import OmniPostCore

/// Connecting an account (`omnipost accounts add`): OAuth 2.0 authorization code with PKCE (RFC 7636)
/// and a loopback redirect (RFC 8252). The flow is one; each platform's differences are data in its
/// descriptor (`authorizeParameters`, `scopeSeparator`, the client field, how the client authenticates).
package struct OAuthConnect: Sendable {
    package let account: AccountConfig
    package let oauth: PlatformDescriptor.OAuth
    let http: HTTPClient

    package init?(account: AccountConfig, http: HTTPClient) {
        guard let o = PlatformRegistry.descriptor(account.platform)?.oauth else { return nil }
        self.account = account
        self.oauth = o
        self.http = http
    }

    /// A fresh PKCE pair: a 64-character verifier and its S256 challenge.
    package static func pkce() -> (verifier: String, challenge: String) {
        var bytes = [UInt8](repeating: 0, count: 48)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        let verifier = base64url(Data(bytes))
        return (verifier, base64url(Data(SHA256.hash(data: Data(verifier.utf8)))))
    }

    package static func randomState() -> String {
        base64url(Data((0..<24).map { _ in UInt8.random(in: 0...255) }))
    }

    static func base64url(_ d: Data) -> String {
        d.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The consent page's address, for a person to open.
    package func authorizeURL(redirect: String, state: String, challenge: String) -> String {
        var q: [(String, String)] = [
            ("response_type", "code"), (oauth.clientIDField, account.clientID), ("redirect_uri", redirect),
            ("scope", oauth.requestedScopes.joined(separator: oauth.scopeSeparator)), ("state", state),
            ("code_challenge", challenge), ("code_challenge_method", "S256")
        ]
        q += oauth.authorizeParameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let base = account.authorizeURL.isEmpty ? oauth.authorizeURL : account.authorizeURL
        return base + (base.contains("?") ? "&" : "?") + TokenProvider.form(q)
    }

    /// What the token endpoint handed out for the code.
    package struct Grant: Sendable {
        package var accessToken: String
        package var refreshToken: String?
        package var expiresIn: Double
        /// The scopes granted, when the endpoint says (a person may untick some).
        package var scopes: [String]?
        /// When the refresh token itself lapses, where the platform says (TikTok, LinkedIn).
        package var refreshExpiresIn: Double?
        /// The user the grant names, where the token answer says (Douyin's and Kuaishou's `open_id`).
        package var openID: String?
    }

    /// The token endpoint's origin (`https://graph.threads.net`), for the paths beside it.
    var tokenOrigin: String {
        guard let c = URLComponents(string: account.tokenURL), let scheme = c.scheme, let host = c.host else { return account.tokenURL }
        return "\(scheme)://\(host)" + (c.port.map { ":\($0)" } ?? "")
    }

    /// Exchanges the code (with the PKCE verifier) for the grant the daemon keeps: OAuth's refresh token,
    /// or — Meta, Threads — a short-lived token exchanged at once for a long-lived one (which is what
    /// their refresh style renews).
    package func exchange(code: String, redirect: String, verifier: String) async throws -> Grant {
        switch oauth.codeGrant {
        case .form: return try await formExchange(code: code, redirect: redirect, verifier: verifier)
        case .json:
            // Douyin: client_key, client_secret, code and grant_type as JSON; the answer under `data`.
            let (status, json) = try await call(
                account.tokenURL, method: .POST, fields: nil,
                json: [
                    oauth.clientIDField: account.clientID, "client_secret": account.clientSecret, "code": code,
                    "grant_type": "authorization_code"
                ])
            guard status == 200, json.access_token != nil else { throw refused(status, json) }
            return try grant(json)
        case .query:
            // Kuaishou: app_id, app_secret, code and grant_type in the query; the answer `result: 1` with the tokens.
            let q = TokenProvider.form([
                (oauth.clientIDField, account.clientID), (oauth.secretField, account.clientSecret), ("code", code),
                ("grant_type", "authorization_code")
            ])
            let (status, json) = try await call(account.tokenURL + "?" + q, method: .GET, fields: nil)
            guard status == 200, json.access_token != nil else { throw refused(status, json) }
            return try grant(json)
        case .graphGET:
            let q = TokenProvider.form([
                ("client_id", account.clientID), ("redirect_uri", redirect), ("client_secret", account.clientSecret),
                ("code", code), ("code_verifier", verifier)
            ])
            let (status, json) = try await call(account.tokenURL + "?" + q, method: .GET, fields: nil)
            return try await longLived(status, json)
        case .threadsPOST:
            let (status, json) = try await call(
                tokenOrigin + "/oauth/access_token", method: .POST,
                fields: [
                    ("client_id", account.clientID), ("client_secret", account.clientSecret), ("grant_type", "authorization_code"),
                    ("redirect_uri", redirect), ("code", code), ("code_verifier", verifier)
                ])
            return try await longLived(status, json)
        }
    }

    /// A short-lived token in `json`, exchanged for a long-lived one (`fb_exchange_token`, `th_exchange_token`).
    func longLived(_ status: Int, _ json: TokenReply) async throws -> Grant {
        guard status == 200, let short = json.access_token else { throw refused(status, json) }
        let url: String
        switch oauth.refreshStyle {
        case .metaExchange:
            url =
                account.tokenURL + "?"
                + TokenProvider.form([
                    ("grant_type", "fb_exchange_token"), ("client_id", account.clientID),
                    ("client_secret", account.clientSecret), ("fb_exchange_token", short)
                ])
        case .threadsRefresh:
            url = tokenOrigin + "/access_token?" + TokenProvider.form([("grant_type", "th_exchange_token"), ("client_secret", account.clientSecret), ("access_token", short)])
        case .refreshToken, .lasting:
            return try grant(json)
        }
        let (s2, j2) = try await call(url, method: .GET, fields: nil)
        guard s2 == 200, let long = j2.access_token else { throw refused(s2, j2) }
        let life = j2.expires_in?.value ?? 60 * 86400
        // The long-lived token is both what is used and what is renewed.
        return Grant(accessToken: long, refreshToken: long, expiresIn: life, scopes: nil, refreshExpiresIn: life)
    }

    func refused(_ status: Int, _ json: TokenReply) -> OmniError {
        let err = json.refusal(status: status)
        if status >= 500 { return OmniError(.networkError, "\(account.key): the token endpoint answered \(status); nothing was stored — try again") }
        return OmniError(
            .authRevoked,
            "\(account.key): the code was refused (\(err)\(json.error_description.map { ": \($0)" } ?? "")). A code works once and for minutes: run `accounts add` again")
    }

    func call(
        _ url: String, method: HTTPMethod, fields: [(String, String)]?, headers: [(String, String)] = [], json: [String: String]? = nil
    ) async throws -> (Int, TokenReply) {
        var req = HTTPClientRequest(url: url)
        req.method = method
        for (k, v) in headers { req.headers.add(name: k, value: v) }
        req.headers.add(name: "User-Agent", value: PlatformRegistry.module(account.platform)?.userAgent(for: account) ?? Product.userAgent)
        if let fields {
            req.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            req.body = .bytes(ByteBuffer(string: TokenProvider.form(fields)))
        }
        if let json, let data = try? JSONSerialization.data(withJSONObject: json, options: .sortedKeys) {
            req.headers.add(name: "Content-Type", value: "application/json")
            req.body = .bytes(ByteBuffer(data: data))
        }
        do {
            let resp = try await http.execute(req, timeout: .seconds(30))
            let body = try await resp.body.collect(upTo: 1 << 20)
            return (Int(resp.status.code), TokenReply.read(Data(buffer: body)))
        } catch {
            throw OmniError(
                .networkError, "\(account.key): the token endpoint \(url.split(separator: "?").first ?? "") could not be reached (\(error)); nothing was stored — try again")
        }
    }

    func formExchange(code: String, redirect: String, verifier: String) async throws -> Grant {
        var fields = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect), ("code_verifier", verifier)]
        var headers: [(String, String)] = []
        switch oauth.clientAuthentication {
        case .form: fields += [(oauth.clientIDField, account.clientID), ("client_secret", account.clientSecret)]
        case .basic: headers.append(("Authorization", TokenProvider.basicAuthorization(account)))
        }
        let (status, json) = try await call(account.tokenURL, method: .POST, fields: fields, headers: headers)
        // Some answer errors inside a 200 (Reddit): an access token is what counts.
        guard status == 200, json.access_token != nil else { throw refused(status, json) }
        return try grant(json)
    }

    /// What the device authorization endpoint answered (RFC 8628 §3.2).
    package struct DeviceCode: Sendable {
        package var deviceCode: String
        package var userCode: String
        package var verificationURL: String
        package var expiresIn: Double
        package var interval: Double
    }

    package var offersDevice: Bool { !account.deviceURL.isEmpty }

    package func startDevice() async throws -> DeviceCode {
        let (status, json) = try await post(account.deviceURL, [(oauth.clientIDField, account.clientID), ("scope", oauth.requestedScopes.joined(separator: oauth.scopeSeparator))])
        guard status == 200, let device = json.device_code, let user = json.user_code, let url = json.verification_url ?? json.verification_uri else {
            throw OmniError(.authRevoked, "\(account.key): the device authorization endpoint answered \(status) \(json.errorCode ?? "")")
        }
        return DeviceCode(
            deviceCode: device, userCode: user, verificationURL: url, expiresIn: json.expires_in?.value ?? 1800,
            interval: json.interval?.value ?? 5)
    }

    /// Polls the token endpoint at the interval the provider gave until the person approved, waiting
    /// longer on `slow_down` (by `slowDownStep`, RFC 8628's 5 s), and giving up on `expired_token`,
    /// `access_denied`, or the code's own lifetime.
    package func pollDevice(_ d: DeviceCode, slowDownStep: Double = 5) async throws -> Grant {
        var interval = max(0, d.interval)
        let end = Date().addingTimeInterval(d.expiresIn)
        while Date() < end {
            try await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
            var fields = [("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", d.deviceCode)]
            fields += [(oauth.clientIDField, account.clientID), ("client_secret", account.clientSecret)]
            let (status, json) = try await post(account.tokenURL, fields)
            if status == 200, json.access_token != nil { return try grant(json) }
            switch json.errorCode ?? "" {
            case "authorization_pending": continue
            case "slow_down": interval += slowDownStep
            case "access_denied": throw OmniError(.authRevoked, "\(account.key): access was not granted (access_denied); nothing was stored")
            case "expired_token":
                throw OmniError(.authRevoked, "\(account.key): the code \(d.userCode) expired before it was entered; nothing was stored — run `accounts add --device` again")
            default:
                if status >= 500 { continue }  // the provider's trouble: ask again at the next interval
                throw OmniError(.authRevoked, "\(account.key): the token endpoint answered \(status) \(json.errorCode ?? ""); nothing was stored")
            }
        }
        throw OmniError(.authRevoked, "\(account.key): the code \(d.userCode) expired before it was entered; nothing was stored — run `accounts add --device` again")
    }

    func post(_ url: String, _ fields: [(String, String)]) async throws -> (Int, TokenReply) {
        try await call(url, method: .POST, fields: fields)
    }

    func grant(_ json: TokenReply) throws -> Grant {
        guard let access = json.access_token else { throw OmniError(.authRevoked, "\(account.key): the token endpoint handed out no access token") }
        let scope = json.scope
        return Grant(
            accessToken: access, refreshToken: json.refresh_token,
            expiresIn: json.expires_in?.value ?? 3600,
            scopes: scope.map { $0.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init) } ?? json.scopes,
            refreshExpiresIn: (json.refresh_token_expires_in ?? json.refresh_expires_in)?.value, openID: json.open_id)
    }

    /// The scopes publishing needs that the grant lacks (a person unticked them at consent).
    package func missingScopes(_ g: Grant) -> [String] {
        guard let granted = g.scopes else { return [] }
        return oauth.scopes.filter { !granted.contains($0) }
    }

    /// The redirect's query, as a person pasted it (`--manual`): the whole URL, or just the code.
    package static func parseRedirect(_ text: String) -> [String: String] {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard t.contains("="), let c = URLComponents(string: t.contains("?") ? t : "?" + t) else { return ["code": t] }
        var out: [String: String] = [:]
        for item in c.queryItems ?? [] { out[item.name] = item.value ?? "" }
        return out
    }
}
