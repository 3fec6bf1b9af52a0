import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore

/// One XRPC call to the account's PDS or the video service: the session's access JWT (renewed once
/// when refused as expired, then the call again), a service-auth token, or none; a typed JSON body or
/// a pinned file streamed from disk.
struct BlueskyXRPC: Sendable {
    let session: BlueskySession
    /// Every call goes through the client that follows no redirect (`AdapterSettings.uploads`,
    /// `UploadRedirect`): AsyncHTTPClient would turn a POST answered 301/302/303 into a GET without the
    /// video and follow it, and would send a JSON body (a post's record) and the session's JWT on to
    /// wherever a 307/308 points; a 3xx naming a `Location` is one failure instead.
    let http: HTTPClient
    let timeout: Duration

    enum Auth: Sendable { case session, bearer(String), none }

    enum Body: Sendable {
        case none
        case json(Data)
        /// The video, streamed from its pinned descriptor (never held in memory whole).
        case file(PinnedFile, contentType: String)
    }

    struct Reply: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: Data

        func decoded<T: Decodable>(_ type: T.Type = T.self) -> T? { try? JSONDecoder().decode(T.self, from: body) }
        var failure: BlueskyWire.Failure? { decoded() }
        var error: String { failure?.error ?? "" }
        var said: String { "\(status) \(error)" + (failure?.message.map { ": \($0)" } ?? "") }
    }

    static func json<T: Encodable>(_ value: T) throws -> Body { .json(try JSONEncoder().encode(value)) }

    func call(
        _ method: HTTPMethod, _ base: String, _ nsid: String, query: [(String, String)] = [], body: Body = .none,
        auth: Auth = .session
    ) async throws -> Reply {
        var renewed = false
        while true {
            var url = base + "/xrpc/" + nsid
            if !query.isEmpty { url += "?" + query.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.1)" }.joined(separator: "&") }
            var r = HTTPClientRequest(url: url)
            r.method = method
            r.headers.add(name: "User-Agent", value: "OmniPost/1")
            var used: String? = nil
            switch auth {
            case .session: used = try await session.current().token
            case .bearer(let t): used = t
            case .none: break
            }
            if let used { r.headers.add(name: "Authorization", value: "Bearer \(used)") }
            switch body {
            case .none: break
            case .json(let data):
                r.headers.add(name: "Content-Type", value: "application/json")
                r.body = .bytes(ByteBuffer(data: data))
            case .file(let pinned, let contentType):
                r.headers.add(name: "Content-Type", value: contentType)
                r.headers.add(name: "Content-Length", value: String(pinned.size))
                r.body = .stream(FileStream.body(pinned: pinned), length: .known(pinned.size))
            }
            let carriesUpload: Bool
            if case .file = body { carriesUpload = true } else { carriesUpload = false }
            let reply: Reply
            do {
                let resp = try await http.execute(r, timeout: .seconds(Int64(timeout.seconds)))
                let data = try await resp.body.collect(upTo: 4 << 20)
                reply = Reply(status: Int(resp.status.code), headers: resp.headers, body: Data(buffer: data))
            } catch {
                throw DeliveryError(.retryNow, .networkError, "\(nsid): \(base) could not be reached: \(error)")
            }
            try UploadRedirect.refuse(
                status: reply.status, headers: reply.headers, url: url,
                what: carriesUpload ? "while sending the video (\(method.rawValue) \(base)/xrpc/\(nsid))" : "to \(method.rawValue) \(base)/xrpc/\(nsid)", platform: "Bluesky")
            // An expired access JWT: renewed once, then the call again.
            if case .session = auth, !renewed, reply.status == 400 || reply.status == 401, ["ExpiredToken", "InvalidToken"].contains(reply.error), let used {
                try await session.renew(failed: used)
                renewed = true
                continue
            }
            return reply
        }
    }

    /// A failed call, classified: 429 waits for `RateLimit-Reset`, 5xx is tried again, 401 needs a person.
    static func failure(_ r: Reply, _ what: String) -> DeliveryError {
        let said = "\(what): Bluesky answered \(r.said)"
        switch r.status {
        case 429: return DeliveryError(.retryAt(RetryAfter.date(r.headers, default: 60)), .rateLimited, said, httpStatus: r.status)
        case 500...: return DeliveryError(.retryNow, .platformError, said, httpStatus: r.status)
        case 401: return DeliveryError(.reauthenticate, .authRevoked, said, httpStatus: r.status)
        default: return DeliveryError(.permanent, .platformError, said, httpStatus: r.status)
        }
    }

    /// A service-auth token from the PDS for one method (`lxm`) of another service (`aud`), good for 30 min.
    func serviceToken(pds: String, aud: String, lxm: String) async throws -> String {
        let exp = String(Int(Date().timeIntervalSince1970) + 1800)
        let r = try await call(.GET, pds, "com.atproto.server.getServiceAuth", query: [("aud", aud), ("lxm", lxm), ("exp", exp)])
        guard r.status == 200, let t = r.decoded(BlueskyWire.ServiceToken.self)?.token else { throw Self.failure(r, "getting a service token for \(lxm)") }
        return t
    }

    /// `did:web:` of a service's host (a port's colon written %3A, as did:web does).
    static func didWeb(_ url: String) -> String {
        let u = URL(string: url)
        return "did:web:" + (u?.host ?? "") + (u?.port.map { "%3A\($0)" } ?? "")
    }
}
