import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore

/// What Instagram and Facebook share: the Graph API (a dated version in every path, form parameters,
/// errors as `{"error": {message, type, code, error_subcode, is_transient}}`, read by one table) and the resumable upload
/// host `rupload.facebook.com` (`Authorization: OAuth`, `offset`, `file_size` headers, raw body).
struct GraphAPI {
    static let version = "v21.0"
    let settings: AdapterSettings
    let name: String
    /// Threads' Graph API has versions of its own (v1.0).
    var version = GraphAPI.version
    /// What each error leads to (the family's one table).
    var errors = GraphErrors.meta
    var account: AccountConfig { settings.account }

    /// The upload host: rupload.facebook.com for the real Graph API, the same server otherwise (the sandbox).
    var ruploadRoot: String {
        account.endpoint.contains("graph.facebook.com") ? "https://rupload.facebook.com" : account.endpoint
    }

    /// One Graph call with form parameters (a POST's body, a GET's query). Meta answers an expired or
    /// revoked token with code 190 — often under HTTP 400, not 401 — so that is refreshed and asked once more.
    /// With `as`: made with that token (a Page's) instead of the account's own.
    func call(_ method: HTTPMethod, _ path: String, _ params: [(String, String)] = [], as token: String? = nil) async throws -> AuthorizedHTTP.Reply {
        let query = TokenProvider.form(params)
        let url = account.endpoint + "/" + version + path + (method == .GET && !params.isEmpty ? "?" + query : "")
        let body = method == .GET ? ByteBuffer() : ByteBuffer(string: query)
        var headers = method == .GET ? [] : [("Content-Type", "application/x-www-form-urlencoded")]
        if let token {
            headers.append(("Authorization", "Bearer " + token))
            return try await settings.api.send(url: url, method: method, headers: headers, body: body, authorize: false)
        }
        var r = try await settings.api.send(url: url, method: method, headers: headers, body: body)
        if Self.code(r) == 190 {
            await settings.tokens.invalidate()
            r = try await settings.api.send(url: url, method: method, headers: headers, body: body)
        }
        return r
    }

    /// Bytes to the upload host from `offset` (the body is the rest, or the next chunk of it).
    /// With `as`: a Page's token instead of the account's own.
    func rupload(_ path: String, offset: Int64, fileSize: Int64, _ body: ByteBuffer, as token: String? = nil) async throws -> AuthorizedHTTP.Reply {
        var bearer = token ?? ""
        if token == nil { bearer = try await settings.tokens.accessToken() }
        func send() async throws -> AuthorizedHTTP.Reply {
            try await settings.parts.send(
                url: ruploadRoot + path, method: .POST,
                headers: [
                    ("Authorization", "OAuth " + bearer), ("offset", String(offset)), ("file_size", String(fileSize)),
                    ("Content-Type", "application/octet-stream")
                ], body: body, authorize: false)
        }
        let r = try await send()
        // The account's own token refused (it expired under us): refreshed and the chunk sent once more.
        // A Page's token (`as`) is not refreshed here: refused, it is the session that ended.
        guard token == nil, Self.credentialsRefused(r) else { return r }
        await settings.tokens.invalidate(rejected: bearer)
        bearer = try await settings.tokens.accessToken()
        return try await send()
    }

    /// The token was refused: HTTP 401 from the upload host, or Graph code 190 wherever it appears.
    static func credentialsRefused(_ r: AuthorizedHTTP.Reply) -> Bool { r.status == 401 || code(r) == 190 }

    /// The upload host's errors: `{"debug_info": {"retriable", "type", "message"}}`, or a Graph error.
    func ruploadError(_ r: AuthorizedHTTP.Reply, during: String) -> DeliveryError {
        if Self.credentialsRefused(r) {
            // A session invalidated mid-upload (190, the host's 401): the credentials, not the upload, failed.
            let f = r.decoded(GraphWire.Failure.self)
            let why = f?.error?.message ?? f?.debug_info?.message ?? "the token was refused"
            return DeliveryError(
                .reauthenticate, .authRevoked,
                "\(name)'s upload host answered \(r.status) (code \(Self.code(r).map(String.init) ?? "-")) while \(during): \(why); authorize the account again",
                httpStatus: r.status)
        }
        if let d = r.decoded(GraphWire.Failure.self)?.debug_info {
            let what = "\(name)'s upload host answered \(r.status) while \(during): \(d.type ?? "") \(d.message ?? "")"
            return DeliveryError(d.retriable == true || r.status >= 500 ? .retryNow : .permanent, .platformError, what, httpStatus: r.status)
        }
        return classify(r, during: during)
    }

    static func error(_ r: AuthorizedHTTP.Reply) -> GraphWire.Failure.Graph? { r.decoded(GraphWire.Failure.self)?.error }
    static func code(_ r: AuthorizedHTTP.Reply) -> Int? { error(r)?.code }
    static func subcode(_ r: AuthorizedHTTP.Reply) -> Int? { error(r)?.error_subcode }

    /// Graph API errors by their code, as the family's table (`GraphErrors`) says: a refused token →
    /// re-authenticate; a request limit → wait (the usage headers say how long); a passing fault or
    /// `is_transient` → retry; 368 (policy block) and the rest → permanent.
    func classify(_ r: AuthorizedHTTP.Reply, during: String) -> DeliveryError {
        let e = Self.error(r)
        let code = Self.code(r)
        let sub = Self.subcode(r).map { "/\($0)" } ?? ""
        let what =
            "\(name) answered \(r.status) (code \(code.map(String.init) ?? "-")\(sub)) while \(during): \(e?.error_user_msg ?? e?.message ?? String(decoding: r.body.prefix(200), as: UTF8.self))"
        switch code.flatMap({ errors.codes[$0] }) {
        case .reauthenticate?:
            return DeliveryError(.reauthenticate, .authRevoked, what + "; authorize the account again", httpStatus: r.status)
        case _ where r.status == 401:
            // A refused token whatever the body says (the upload host, a proxy): the credentials, not the request.
            return DeliveryError(.reauthenticate, .authRevoked, what + "; authorize the account again", httpStatus: r.status)
        case .throttled?:
            return DeliveryError(.retryAt(Self.regainAccess(r.headers)), .rateLimited, what, httpStatus: r.status)
        case .retry?:
            return DeliveryError(.retryNow, .platformError, what, httpStatus: r.status)
        default:
            if e?.is_transient == true || r.status >= 500 { return DeliveryError(.retryNow, .platformError, what, httpStatus: r.status) }
            if r.status == 429 { return DeliveryError(.retryAt(Self.regainAccess(r.headers)), .rateLimited, what, httpStatus: r.status) }
            return DeliveryError(.permanent, .rejectedByPlatform, what, httpStatus: r.status)
        }
    }

    /// One usage figure of Meta's rate-limit headers: how many minutes until calls are taken again.
    struct Usage: Decodable {
        var estimated_time_to_regain_access: Double?
    }

    /// When a throttled app or account may call again: `estimated_time_to_regain_access` (minutes) in
    /// `X-Business-Use-Case-Usage` (`{"<business id>": [usage, …]}`) or `X-App-Usage` (one usage), else
    /// an hour.
    static func regainAccess(_ h: HTTPHeaders, now: Date = Date()) -> Date {
        func header<T: Decodable>(_ name: String, _ type: T.Type) -> T? { h.first(name: name).flatMap { try? JSONDecoder().decode(T.self, from: Data($0.utf8)) } }
        let business = header("X-Business-Use-Case-Usage", [String: [Usage]].self)?.values.joined().compactMap(\.estimated_time_to_regain_access) ?? []
        let app = header("X-App-Usage", Usage.self)?.estimated_time_to_regain_access
        for minutes in [business.max(), app] {
            if let m = minutes, m > 0 { return now.addingTimeInterval(m * 60) }
        }
        return now.addingTimeInterval(3600)
    }
}

/// The Graph API's small reply bodies, shared by Instagram, Facebook and Threads.
enum GraphWire {
    /// A created object (a container, a published post): its id.
    struct Created: Decodable { var id: String }
    struct Permalink: Decodable { var permalink: String? }

    /// A Graph error (`error`), or the upload host's (`debug_info`).
    struct Failure: Decodable {
        struct Graph: Decodable {
            var message: String?
            var error_user_msg: String?
            var code: Int?
            var error_subcode: Int?
            var is_transient: Bool?
        }
        struct Debug: Decodable {
            var retriable: Bool?
            var type: String?
            var message: String?
        }
        var error: Graph?
        var debug_info: Debug?
    }

    /// A publishing limit (`content_publishing_limit`, `threads_publishing_limit`).
    struct Limits: Decodable {
        struct Limit: Decodable {
            struct Config: Decodable { var quota_total: Int? }
            var config: Config?
            var quota_usage: Int?
        }
        var data: [Limit]?
    }

    /// An object's fields asked for by name (`fields=status_code,status`): the string ones.
    struct Fields: Decodable {
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        var strings: [String: String] = [:]

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            for k in c.allKeys { if let v = try? c.decode(String.self, forKey: k) { strings[k.stringValue] = v } }
        }
    }
}
