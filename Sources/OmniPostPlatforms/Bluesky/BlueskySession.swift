import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore

/// An account's session on its PDS: made with the handle and app password (`createSession`), renewed
/// with the refresh JWT (`refreshSession`, which hands out a new one) when the access JWT expires, made
/// anew when the refresh JWT is refused too. Kept sealed in the ledger's token store under the account
/// and handle, so a restart goes on with it: `createSession` is limited (30 per 5 minutes), and a
/// daemon restarted in a loop must not spend it. Another handle is another session.
actor BlueskySession {
    let pds: String
    let identifier: String
    let password: String
    let http: HTTPClient
    let timeout: Duration
    let store: (any TokenStore)?
    let storeKey: String
    private var access: String?
    private var refresh: String?
    private var did: String?
    private var loaded = false

    init(pds: String, identifier: String, password: String, http: HTTPClient, timeout: Duration, store: (any TokenStore)?, account: String) {
        self.pds = pds
        self.identifier = identifier
        self.password = password
        self.http = http
        self.timeout = timeout
        self.store = store
        self.storeKey = "\(account)|\(identifier)"
    }

    /// The access JWT and the account's DID: the one in memory, else the stored one while it is good
    /// (else renewed with the stored refresh JWT), else a new sign-in.
    func current() async throws -> (token: String, did: String) {
        if let a = access, let d = did { return (a, d) }
        if !loaded, let store {
            loaded = true
            if let saved = try? await store.load(account: storeKey) {
                if let a = saved.accessToken, let exp = saved.expiresAt, exp.timeIntervalSinceNow > 60, let d = Self.claims(a)?.sub {
                    access = a
                    did = d
                    refresh = saved.refreshToken
                    return (a, d)
                }
                if let r = saved.refreshToken, try await refreshWith(r), let a = access, let d = did { return (a, d) }
            }
        }
        try await create()
        guard let a = access, let d = did else { throw DeliveryError(.retryNow, .platformError, "Bluesky's createSession answered no session") }
        return (a, d)
    }

    /// The access JWT `failed` was refused as expired: renew it (once, however many callers saw it fail).
    func renew(failed: String) async throws {
        // Another caller renewed it already — unless what it got has lapsed too.
        if failed != access, let a = access, let exp = Self.claims(a)?.exp, exp > Date().timeIntervalSince1970 + 5 { return }
        if let r = refresh, try await refreshWith(r) { return }
        try await create()
    }

    private func post(_ nsid: String, json: BlueskyWire.SignIn?, bearer: String?) async throws -> (Int, Data, HTTPHeaders) {
        var r = HTTPClientRequest(url: pds + "/xrpc/" + nsid)
        r.method = .POST
        if let bearer { r.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        if let json {
            r.headers.add(name: "Content-Type", value: "application/json")
            r.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(json)))
        }
        let resp: HTTPClientResponse
        let body: ByteBuffer
        do {
            resp = try await http.execute(r, timeout: .seconds(Int64(timeout.seconds)))
            body = try await resp.body.collect(upTo: 1 << 20)
        } catch {
            throw DeliveryError(.retryNow, .networkError, "Bluesky (\(pds)) could not be reached: \(error)")
        }
        // On the client that follows no redirect (`AdapterSettings.uploads`): `createSession`'s body is the
        // app password, which AsyncHTTPClient would send on to wherever a 307/308 points.
        try UploadRedirect.refuse(status: Int(resp.status.code), headers: resp.headers, url: r.url, what: "to POST \(pds)/xrpc/\(nsid)", platform: "Bluesky")
        return (Int(resp.status.code), Data(buffer: body), resp.headers)
    }

    private func take(_ body: Data) async -> Bool {
        guard let s = try? JSONDecoder().decode(BlueskyWire.SessionReply.self, from: body) else { return false }
        access = s.accessJwt
        refresh = s.refreshJwt
        did = s.did
        // The new pair is stored before it is used (a refresh JWT works once).
        let exp = Self.claims(s.accessJwt)?.exp.map { Date(timeIntervalSince1970: $0) } ?? Date().addingTimeInterval(3600)
        try? await store?.save(account: storeKey, accessToken: s.accessJwt, expiresAt: exp, refreshToken: s.refreshJwt)
        return true
    }

    /// A JWT's payload (its claims), read without checking the signature: only `sub` and `exp` are used,
    /// for what the PDS itself said at sign-in.
    static func claims(_ jwt: String) -> BlueskyWire.Claims? {
        let parts = jwt.split(separator: ".")
        guard parts.count == 3 else { return nil }
        var b64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        return Data(base64Encoded: b64).flatMap { try? JSONDecoder().decode(BlueskyWire.Claims.self, from: $0) }
    }

    private func create() async throws {
        let (status, body, headers) = try await post("com.atproto.server.createSession", json: BlueskyWire.SignIn(identifier: identifier, password: password), bearer: nil)
        if status == 200, await take(body) { return }
        let failure = try? JSONDecoder().decode(BlueskyWire.Failure.self, from: body)
        let said = "signing in as \(identifier): Bluesky answered \(status) \(failure?.error ?? "")" + (failure?.message.map { ": \($0)" } ?? "")
        switch status {
        case 429: throw DeliveryError(.retryAt(RetryAfter.date(headers, default: 300)), .rateLimited, said, httpStatus: status)
        case 500...: throw DeliveryError(.retryNow, .platformError, said, httpStatus: status)
        default: throw DeliveryError(.reauthenticate, .authRevoked, said + "; check the handle and make a new app password", httpStatus: status)
        }
    }

    private func refreshWith(_ token: String) async throws -> Bool {
        let (status, body, _) = try await post("com.atproto.server.refreshSession", json: nil, bearer: token)
        guard status == 200 else { return false }
        return await take(body)
    }
}
