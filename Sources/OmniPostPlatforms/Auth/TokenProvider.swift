import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import OmniPostCore

/// Where tokens are kept between runs (the ledger, in the pipeline). A rotated refresh token is
/// saved the moment it arrives.
package protocol TokenStore: Sendable {
    func load(account: String) async throws -> (accessToken: String?, expiresAt: Date?, refreshToken: String?)
    func save(account: String, accessToken: String, expiresAt: Date, refreshToken: String?) async throws
    /// When the refresh token itself lapses, where the platform says (kept to warn before it does).
    func saveRefreshExpiry(account: String, at: Date) async throws
    /// The scopes a refresh named.
    func saveScope(account: String, scope: String) async throws
    func exclusively<T: Sendable>(account: String, _ body: @Sendable () async throws -> T) async throws -> T
}

extension TokenStore {
    /// Runs a refresh of `account`'s token while no other process sharing the store refreshes it (hosts
    /// on one ledger: an advisory lock). A store only this process uses runs it as it is.
    package func exclusively<T: Sendable>(account: String, _ body: @Sendable () async throws -> T) async throws -> T { try await body() }
    package func saveRefreshExpiry(account: String, at: Date) async throws {}
    package func saveScope(account: String, scope: String) async throws {}
}

/// OAuth 2 refresh-token flow for one account: hands out a valid access token, refreshing a minute
/// before expiry and on demand after a 401.
package actor TokenProvider {
    package let account: AccountConfig
    let http: HTTPClient
    let store: any TokenStore
    let timeout: Duration
    private var cached: (token: String, expires: Date)?
    /// Set by a 401: the stored access token was refused, so the next call must refresh, not reuse it.
    private var mustRefresh = false

    /// The form field naming the client (`client_id`; TikTok's `client_key`), from the platform's descriptor.
    let clientIDField: String

    /// Client id and secret in the form, or as HTTP Basic (X), from the platform's descriptor.
    let clientAuthentication: PlatformDescriptor.OAuth.ClientAuthentication
    let refreshStyle: PlatformDescriptor.OAuth.RefreshStyle
    /// The platform's OAuth facts (where a refresh and a renewal go, its dead-grant codes).
    let oauth: PlatformDescriptor.OAuth?

    package init(account: AccountConfig, http: HTTPClient, store: any TokenStore, timeout: Duration = .seconds(30), clientIDField: String? = nil) {
        self.account = account
        let oauth = PlatformRegistry.descriptor(account.platform)?.oauth
        self.clientIDField = clientIDField ?? oauth?.clientIDField ?? "client_id"
        self.clientAuthentication = oauth?.clientAuthentication ?? .form
        self.refreshStyle = oauth?.refreshStyle ?? .refreshToken
        self.oauth = oauth
        self.http = http
        self.store = store
        self.timeout = timeout
    }

    package func accessToken() async throws -> String {
        if mustRefresh { return try await refresh() }
        if let c = cached, c.expires.timeIntervalSinceNow > 60 { return c.token }
        if cached == nil, let saved = try await stored(),
            let t = saved.accessToken, let e = saved.expiresAt, e.timeIntervalSinceNow > 60
        {
            cached = (t, e)
            return t
        }
        return try await refresh()
    }

    /// What the store holds. A store that cannot be read (a changed sealing key) fails the account with
    /// its own sentence — falling back to the pipeline file's token would hide it behind `invalid_grant`.
    private func stored() async throws -> (accessToken: String?, expiresAt: Date?, refreshToken: String?)? {
        do { return try await store.load(account: account.key) } catch let e as OmniError {
            throw DeliveryError(.reauthenticate, e.code, "\(account.key): \(e.message)")
        } catch {
            throw DeliveryError(.retryNow, .internalError, "\(account.key): the stored credentials could not be read: \(error)")
        }
    }

    /// Forgets the current token (after a 401) so the next call refreshes — unless `rejected` names a
    /// token that another request's refresh has already replaced: that one is spent, not this one.
    package func invalidate(rejected: String? = nil) {
        if let rejected, let c = cached, c.token != rejected { return }
        cached = nil
        mustRefresh = true
    }

    /// The refresh in flight, shared by every caller that needs one meanwhile.
    private var inFlight: Task<String, any Error>?

    /// Single-flight: the actor is re-entered at each `await`, so without this two uploads whose token is
    /// due would both send the same refresh token — and a provider that rotates strictly (X; TikTok;
    /// any with reuse detection) refuses the second, or revokes the whole token family.
    func refresh() async throws -> String {
        if let t = inFlight { return try await t.value }
        // One refresh at a time per account across every process sharing the store (several hosts on one
        // ledger); inside, the stored token is read again: another host may have refreshed it while this
        // one waited — then its token is used, not refreshed a second time.
        let key = account.key, store = store
        let t = Task {
            let before: String?? = try? await store.load(account: key).accessToken
            return try await store.exclusively(account: key) { try await self.refreshUnlessRefreshedElsewhere(since: before) }
        }
        inFlight = t
        defer { inFlight = nil }
        return try await t.value
    }

    /// A refreshing style whose stored token another process renewed while this one waited for the lock
    /// (the stored token is no longer `before`, what was stored when this refresh was asked for): that
    /// token, not a second refresh (which would spend a rotating refresh token twice).
    private func refreshUnlessRefreshedElsewhere(since before: String??) async throws -> String {
        if refreshStyle == .refreshToken || refreshStyle == .metaExchange, case .some(let before) = before, let saved = try await stored(),
            let t = saved.accessToken, t != before, let e = saved.expiresAt, e.timeIntervalSinceNow > 60
        {
            cached = (t, e)
            mustRefresh = false
            return t
        }
        return try await performRefresh()
    }

    private func performRefresh() async throws -> String {
        let storedRefresh = try await stored()?.refreshToken
        let refreshToken = storedRefresh ?? account.refreshToken
        var req: HTTPClientRequest
        switch refreshStyle {
        case .lasting:
            // Nothing to refresh: the stored token is the token until it is refused.
            if !mustRefresh, let saved = try await stored(), let t = saved.accessToken {
                cached = (t, saved.expiresAt ?? .distantFuture)
                return t
            }
            throw DeliveryError(
                .reauthenticate, .authRevoked,
                "\(account.key) has no working token (its tokens do not expire, so a refused one was revoked): run `omnipost accounts add` for it, or set access_token under accounts: \(account.key)"
            )
        case .refreshToken where oauth?.codeGrant == .query:
            // Kuaishou: app_id, app_secret, grant_type and refresh_token in the query of a GET.
            let fields = [
                (clientIDField, account.clientID), (oauth?.secretField ?? "client_secret", account.clientSecret), ("grant_type", "refresh_token"),
                ("refresh_token", refreshToken)
            ]
            req = HTTPClientRequest(url: (oauth?.refreshPath.map { beside($0) } ?? account.tokenURL) + "?" + Self.form(fields))
            req.method = .GET
        case .refreshToken:
            req = HTTPClientRequest(url: oauth?.refreshPath.map { beside($0) } ?? account.tokenURL)
            req.method = .POST
            req.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            var fields = [("grant_type", "refresh_token"), ("refresh_token", refreshToken)]
            switch clientAuthentication {
            case .form:
                fields.append((clientIDField, account.clientID))
                if oauth?.refreshSendsSecret ?? true { fields.append(("client_secret", account.clientSecret)) }
            case .basic:
                req.headers.add(name: "Authorization", value: Self.basicAuthorization(account))
            }
            req.body = .bytes(ByteBuffer(string: Self.form(fields)))
        case .metaExchange:
            // Meta: the long-lived token is exchanged for a new long-lived one (60 days), which is stored in its place.
            req = HTTPClientRequest(
                url: account.tokenURL + "?"
                    + Self.form([
                        ("grant_type", "fb_exchange_token"), ("client_id", account.clientID), ("client_secret", account.clientSecret),
                        ("fb_exchange_token", refreshToken)
                    ]))
            req.method = .GET
        case .threadsRefresh:
            // Threads: the long-lived token refreshes itself (at least a day old, not yet expired) into a new
            // one — only near its end (ThreadsTokenRule), not at every start or check.
            let saved = try await stored()
            if let keep = ThreadsTokenRule.keep(accessToken: saved?.accessToken, expiresAt: saved?.expiresAt) {
                cached = keep
                mustRefresh = false
                return keep.token
            }
            req = HTTPClientRequest(url: account.tokenURL + "?" + Self.form([("grant_type", "th_refresh_token"), ("access_token", refreshToken)]))
            req.method = .GET
        }
        req.headers.add(name: "User-Agent", value: PlatformRegistry.module(account.platform)?.userAgent(for: account) ?? Product.userAgent)
        let resp: HTTPClientResponse
        let body: ByteBuffer
        do {
            resp = try await http.execute(req, timeout: .seconds(Int64(timeout.seconds)))
            body = try await resp.body.collect(upTo: 1 << 20)
        } catch {
            // Refused, unresolved, timed out or cut: the network's failure, for every platform that refreshes.
            throw DeliveryError(.retryNow, .networkError, "\(account.key): the token endpoint \(account.tokenURL.split(separator: "?").first ?? "") could not be reached: \(error)")
        }
        let json = TokenReply.read(Data(buffer: body))
        if resp.status == .ok, let token = json.access_token {
            let expiresIn = json.expires_in?.value ?? 3600
            let expires = Date().addingTimeInterval(expiresIn)
            // A rotated refresh token is stored before the access token is used.
            let next = refreshStyle != .refreshToken ? token : json.refresh_token ?? refreshToken
            try await store.save(account: account.key, accessToken: token, expiresAt: expires, refreshToken: next)
            // TikTok and LinkedIn say when the refresh token lapses; Meta's long-lived token is its own refresh.
            let refreshLife = (json.refresh_expires_in ?? json.refresh_token_expires_in)?.value ?? (refreshStyle != .refreshToken ? expiresIn : nil)
            if let refreshLife { try? await store.saveRefreshExpiry(account: account.key, at: Date().addingTimeInterval(refreshLife)) }
            if let scope = json.scope, !scope.isEmpty { try? await store.saveScope(account: account.key, scope: scope) }
            cached = (token, expires)
            mustRefresh = false
            if let path = oauth?.renewPath, let left = refreshLife, left < oauth?.renewWithin ?? 0 {
                await renew(next, at: path, accessToken: token, expires: expires)
            }
            return token
        }
        // Threads refuses to refresh a token younger than a day as it refuses a revoked one: while the token
        // is in date that is no revocation, so it goes on being used (the API says 190 if it is dead).
        if refreshStyle == .threadsRefresh, resp.status.code < 500, resp.status != .tooManyRequests {
            let saved = try await stored()
            if let keep = ThreadsTokenRule.afterRefusal(accessToken: saved?.accessToken, expiresAt: saved?.expiresAt, longLived: refreshToken) {
                cached = keep
                mustRefresh = false
                return keep.token
            }
        }
        // Graph API errors are objects: code 190 is a token that is expired, revoked or invalid.
        let err = json.refusal(status: Int(resp.status.code))
        let desc = (json.error_description ?? "").lowercased()
        // X answers a used or revoked refresh token with `invalid_request` "Value passed for the token was invalid."
        let deadToken = (err == "invalid_request" && desc.contains("token") && desc.contains("invalid")) || oauth?.deadGrantErrors.contains(err) == true
        let graphDead = json.graphCode == 190
        if err == "invalid_grant" || err == "invalid_client" || err == "unauthorized_client" || deadToken || graphDead || resp.status == .unauthorized {
            throw DeliveryError(
                .reauthenticate, .authRevoked,
                "the credentials for \(account.key) were refused (\(err)): the refresh token expired or was revoked; authorize the account again and put the new refresh_token under accounts: \(account.key)",
                httpStatus: Int(resp.status.code))
        }
        if resp.status.code >= 500 || resp.status == .tooManyRequests {
            // The platform's trouble, not ours: retried like any 5xx/429 from its API.
            throw DeliveryError(
                .retryNow, resp.status == .tooManyRequests ? .rateLimited : .platformError,
                "\(account.key): the token endpoint answered \(resp.status.code)", httpStatus: Int(resp.status.code))
        }
        throw DeliveryError(.permanent, .authRevoked, "token refresh for \(account.key) failed: \(err)", httpStatus: Int(resp.status.code))
    }

    /// A path beside the token endpoint, resolved against its URL (`../refresh_token/`), where a platform
    /// keeps its refresh and renewal apart from the code exchange (Douyin).
    func beside(_ path: String) -> String { Self.beside(path, of: account.tokenURL) }

    package static func beside(_ path: String, of tokenURL: String) -> String {
        guard let base = URL(string: tokenURL), let url = URL(string: path, relativeTo: base) else { return tokenURL }
        return url.absoluteString
    }

    /// Renews a refresh token that lapses on its own (Douyin's: 30 days from the grant, however often it
    /// is used) for a new one, stored at once — the old one dies when the new one is handed out. A refusal
    /// (renewed five times already, or the app lacks the permission) leaves the current one in use until
    /// its end, which is stored, so `accounts check` and the dashboard warn ahead of it.
    private func renew(_ refreshToken: String, at path: String, accessToken: String, expires: Date) async {
        var req = HTTPClientRequest(url: beside(path))
        req.method = .POST
        req.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        req.headers.add(name: "User-Agent", value: PlatformRegistry.module(account.platform)?.userAgent(for: account) ?? Product.userAgent)
        req.body = .bytes(ByteBuffer(string: Self.form([(clientIDField, account.clientID), ("refresh_token", refreshToken)])))
        guard let resp = try? await http.execute(req, timeout: .seconds(Int64(timeout.seconds))),
            let body = try? await resp.body.collect(upTo: 1 << 20)
        else { return }
        let json = TokenReply.read(Data(buffer: body))
        guard resp.status == .ok, json.error == nil, let renewed = json.refresh_token else { return }
        try? await store.save(account: account.key, accessToken: accessToken, expiresAt: expires, refreshToken: renewed)
        if let life = json.expires_in?.value { try? await store.saveRefreshExpiry(account: account.key, at: Date().addingTimeInterval(life)) }
    }

    /// RFC 6749 §2.3.1: the client's id and secret form-encoded, joined and base64-encoded (X, Reddit, Vimeo).
    static func basicAuthorization(_ account: AccountConfig) -> String {
        "Basic " + Data((formEscape(account.clientID) + ":" + formEscape(account.clientSecret)).utf8).base64EncodedString()
    }

    static func form(_ fields: [(String, String)]) -> String {
        fields.map { "\($0.0)=\(formEscape($0.1))" }.joined(separator: "&")
    }

    static func formEscape(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}
