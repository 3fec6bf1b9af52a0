import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore

/// An account's session on its PDS: made with the handle and app password (`createSession`), renewed
/// with the refresh JWT (`refreshSession`, which hands out a new one) when the access JWT expires, made
/// anew when the refresh JWT is refused too. Kept in memory: a restart signs in again.
actor BlueskySession {
    let pds: String
    let identifier: String
    let password: String
    let http: HTTPClient
    let timeout: Duration
    private var access: String?
    private var refresh: String?
    private var did: String?

    init(pds: String, identifier: String, password: String, http: HTTPClient, timeout: Duration) {
        self.pds = pds
        self.identifier = identifier
        self.password = password
        self.http = http
        self.timeout = timeout
    }

    /// The access JWT and the account's DID, signing in first if need be.
    func current() async throws -> (token: String, did: String) {
        if let a = access, let d = did { return (a, d) }
        try await create()
        guard let a = access, let d = did else { throw DeliveryError(.retryNow, .platformError, "Bluesky's createSession answered no session") }
        return (a, d)
    }

    /// The access JWT `failed` was refused as expired: renew it (once, however many callers saw it fail).
    func renew(failed: String) async throws {
        guard failed == access else { return }
        if let r = refresh, try await refreshWith(r) { return }
        try await create()
    }

    private func post(_ nsid: String, json: [String: Any]?, bearer: String?) async throws -> (Int, [String: Any]?, HTTPHeaders) {
        var r = HTTPClientRequest(url: pds + "/xrpc/" + nsid)
        r.method = .POST
        if let bearer { r.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        if let json {
            r.headers.add(name: "Content-Type", value: "application/json")
            r.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json)))
        }
        do {
            let resp = try await http.execute(r, timeout: .seconds(Int64(timeout.seconds)))
            let body = try await resp.body.collect(upTo: 1 << 20)
            return (Int(resp.status.code), (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any], resp.headers)
        } catch {
            throw DeliveryError(.retryNow, .networkError, "Bluesky (\(pds)) could not be reached: \(error)")
        }
    }

    private func take(_ json: [String: Any]?) -> Bool {
        guard let a = json?["accessJwt"] as? String, let r = json?["refreshJwt"] as? String, let d = json?["did"] as? String else { return false }
        access = a
        refresh = r
        did = d
        return true
    }

    private func create() async throws {
        let (status, json, headers) = try await post("com.atproto.server.createSession", json: ["identifier": identifier, "password": password], bearer: nil)
        if status == 200, take(json) { return }
        let said = "signing in as \(identifier): Bluesky answered \(status) \(json?["error"] as? String ?? "")" + ((json?["message"] as? String).map { ": \($0)" } ?? "")
        switch status {
        case 429: throw DeliveryError(.retryAt(RetryAfter.date(headers, default: 300)), .rateLimited, said, httpStatus: status)
        case 500...: throw DeliveryError(.retryNow, .platformError, said, httpStatus: status)
        default: throw DeliveryError(.reauthenticate, .authRevoked, said + "; check the handle and make a new app password", httpStatus: status)
        }
    }

    private func refreshWith(_ token: String) async throws -> Bool {
        let (status, json, _) = try await post("com.atproto.server.refreshSession", json: nil, bearer: token)
        return status == 200 && take(json)
    }
}
