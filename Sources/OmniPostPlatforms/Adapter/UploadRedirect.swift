import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import OmniPostCore

/// Every request an adapter sends to its platform while it uploads (the session, the parts, the finish,
/// the status polls and the post) and every S3 request go through a client that never follows a
/// redirect, and a 3xx that names a `Location` is one failure, classified here.
///
/// Why a client of its own: AsyncHTTPClient's redirect setting is the client's, not a request's, and
/// following depends on the body — a `.bytes` body is sent again to wherever `Location` points (across
/// hosts without `Authorization`), a streamed one (`BodySlices` over TLS past 256 KiB) cannot be and its
/// 3xx comes back; a POST answered 301/302/303 is followed as a GET without its body. So the same
/// redirect answered one way for a small or plain-HTTP part and another for a large HTTPS one: an S3
/// bucket's 307 TemporaryRedirect became `auth_revoked` (S3 refuses a request followed to another Host:
/// SigV4 signs the Host) or `config_invalid`. And an upload's bytes and the account's token should go
/// where the account's endpoint and the platform's session said, not to any address a reply names.
///
/// Why the session's requests too, not only the parts: one client means one connection pool, so the
/// parts go out on the connection the session's first request opened. With the parts alone on a second
/// client (r17) they took a connection of their own, and LinkedIn's and Vimeo's bench rows fell from
/// 0.84–0.95× curl to 0.50–0.68× (docs/performance.md, r17 and r18).
///
/// Token endpoints, the captions model, a webhook's POST and downloads stay on the client that follows
/// (a CDN's redirect is theirs to make; a webhook receiver may answer `303 See Other`).
package enum UploadRedirect {
    /// The no-redirect client beside one made with `tls` and the same timeouts (`Pipeline`, the bench):
    /// on the same (process-wide) event loop group, shut down where that one is.
    package static func client(tls: TLSConfiguration) -> HTTPClient {
        HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(
                tlsConfiguration: tls, redirectConfiguration: .disallow,
                timeout: .init(connect: .seconds(10), read: .seconds(300), write: .seconds(300))))
    }

    /// The system's CAs, never shut down (as `HTTPClient.shared`): for settings made without a client
    /// of their own (a check, a test); the pipeline and the bench make theirs with `client(tls:)`.
    package static let shared = client(tls: .makeClientConfiguration())

    /// Where a redirect points: a 3xx that names a `Location`. (YouTube's `308 Resume Incomplete` is that
    /// protocol's answer, not a redirect, even when it names a new session URI on the same host: its calls
    /// hand it back, `AuthorizedHTTP.protocolAnswers`.)
    package static func location(status: Int, headers: HTTPHeaders) -> String? {
        guard (300..<400).contains(status), let l = headers.first(name: "Location"), !l.isEmpty else { return nil }
        return l
    }

    /// Throws the one failure a redirect is (`failure`) when `status` is a 3xx naming a `Location`; else
    /// returns, and the caller reads the answer as its protocol says. Every request on the no-redirect
    /// client passes its answer through here: `AuthorizedHTTP` (every adapter's `api` and `parts`), every
    /// tus request, Vimeo's API calls and uploads, Bluesky's, Reddit's media host. `what` completes
    /// "<platform> answered HTTP <status> …": "to GET <url>", "while sending the video (POST <url>)" —
    /// URLs without their query (`bare`).
    package static func refuse(status: Int, headers: HTTPHeaders, url: String, what: String, platform: String) throws {
        guard let location = location(status: status, headers: headers) else { return }
        throw failure(status: status, location: location, url: url, what: what, platform: platform)
    }

    /// One request on the no-redirect client, its answer's body collected (up to `collect` bytes); a
    /// `307` naming a `Location` is this request's only (`failure`), so the same request is sent once
    /// more at once to its own URL — the caller's body must be one that can be sent again (a buffer; a body
    /// streamed from a file is not sent twice here). A second `307` in a row is handed back, for `refuse` to make the
    /// retryable failure it is: a redirect that always comes back costs the attempt's tries, not a loop.
    /// Connection errors are thrown as they come; the caller says what could not be reached.
    /// `resendIf`: whether a 307 is one to send again (S3's own, naming the bucket's region, is not).
    package static func execute(
        _ request: HTTPClientRequest, on client: HTTPClient, timeout: Duration, collect: Int,
        resendIf: (HTTPHeaders, ByteBuffer) -> Bool = { _, _ in true }
    ) async throws -> (HTTPClientResponse, ByteBuffer) {
        var sent = 0
        while true {
            let resp = try await client.execute(request, timeout: .seconds(Int64(timeout.seconds)))
            let body = try await resp.body.collect(upTo: collect)
            sent += 1
            guard sent == 1, resp.status.code == 307, location(status: 307, headers: resp.headers) != nil, resendIf(resp.headers, body) else {
                return (resp, body)
            }
        }
    }

    /// Whether `location`, resolved against `url`, is on `url`'s own scheme, host and port (an empty one is).
    package static func sameOrigin(_ location: String, as url: String) -> Bool {
        if location.isEmpty { return true }
        guard let base = URL(string: url), let to = URL(string: location, relativeTo: base)?.absoluteURL else { return false }
        func port(_ u: URL) -> Int? { u.port ?? (u.scheme?.lowercased() == "https" ? 443 : u.scheme?.lowercased() == "http" ? 80 : nil) }
        return to.scheme?.lowercased() == base.scheme?.lowercased() && to.host?.lowercased() == base.host?.lowercased() && port(to) == port(base)
    }

    /// A request's URL as a sentence names it: without its query (a signed upload URL's can carry a
    /// credential of its own).
    package static func bare(_ url: String) -> Substring { url.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }

    /// A redirect answered to a request of an upload, classified one way whatever the body's size or
    /// scheme. Nothing was sent to `location` (no bytes, no token): a part stays unconfirmed.
    /// - 307 Temporary Redirect keeps the method and says the move is for this request only: the same
    ///   request to the same URL again (`retryNow`, bounded by the attempt's tries and the delivery's
    ///   retries), as a load balancer's passing redirect would take it.
    /// - 301/308 say the URL moved for good (RFC 9110 §15.4.2, §15.4.9): the same request would meet
    ///   the same answer; 302/303 let a client turn the PUT/POST into a GET, which no upload endpoint takes.
    ///   None is retried blindly: the delivery fails (`rejected_by_platform`) naming where it pointed, and
    ///   a person checks the endpoint the account names or the platform's status.
    /// `endpoint`: whose endpoint the request went to — the account's, unless it went to something else of
    /// the person's (the media host's bucket: `media_host`'s endpoint); the sentence says requests go only
    /// there and tells the person to check it.
    package static func failure(
        status: Int, location: String, url: String, what: String, platform: String, endpoint: Endpoint = .account
    ) -> DeliveryError {
        let target = Self.host(location, relativeTo: url)
        let said =
            "\(platform) answered HTTP \(status) \(what), redirecting it to \(target); OmniPost does not follow a redirect with an upload's requests or the account's credentials: they go only where \(endpoint.goes) point"
        let check = endpoint.check
        if status == 307 {
            return DeliveryError(
                .retryNow, .platformError,
                said + " — the redirect says it is temporary, so the request is sent again to the same URL; if this keeps happening, check \(check)", httpStatus: status)
        }
        return DeliveryError(
            .permanent, .rejectedByPlatform, said + " — check \(check), or whether the platform moved that service",
            httpStatus: status)
    }

    /// Whose endpoint a redirected request went to, as a redirect's sentence names it.
    package enum Endpoint: Sendable {
        case account, mediaHost

        /// Where requests go: the subject of "they go only where … point".
        var goes: String {
            switch self {
            case .account: "the account's endpoint and the platform's own answers"
            case .mediaHost: "media_host's endpoint and the bucket's own answers"
            }
        }

        /// The setting a person checks.
        var check: String {
            switch self {
            case .account: "the endpoint the account names"
            case .mediaHost: "media_host's endpoint"
            }
        }
    }

    /// `location` resolved against the request's URL, its query left out (a signed upload URL's query can
    /// carry a credential of its own).
    static func host(_ location: String, relativeTo url: String) -> String {
        guard let u = URL(string: location, relativeTo: URL(string: url))?.absoluteURL, var c = URLComponents(url: u, resolvingAgainstBaseURL: true) else {
            return String(location.split(separator: "?").first ?? "")
        }
        c.query = nil
        c.fragment = nil
        return c.string ?? location
    }
}
