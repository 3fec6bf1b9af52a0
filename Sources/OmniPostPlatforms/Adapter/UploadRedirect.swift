import AsyncHTTPClient
import Foundation
import NIOHTTP1
import NIOSSL
import OmniPostCore

/// Requests that carry an upload's bytes (a part, a segment, a tus PATCH) and every S3 request go
/// through a client that never follows a redirect, and a 3xx answered to a part is one failure.
///
/// Why a client of their own: AsyncHTTPClient's redirect setting is the client's, not a request's, and
/// following depends on the body — a `.bytes` body is sent again to wherever `Location` points (across
/// hosts without `Authorization`), a streamed one (`BodySlices` over TLS past 256 KiB) cannot be and its
/// 3xx comes back. So the same redirect answered one way for a small or plain-HTTP part and another for
/// a large HTTPS one: an S3 bucket's 307 TemporaryRedirect became `auth_revoked` (S3 refuses a request
/// followed to another Host: SigV4 signs the Host) or `config_invalid`. And an upload's bytes should go
/// where the platform's session said, not to any address a reply names. Read-backs, downloads, token
/// endpoints and the captions model stay on the client that follows (a CDN's redirect is theirs to make).
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

    /// Where a redirect points: a 3xx that names a `Location` (YouTube's `308 Resume Incomplete` names
    /// none, and is that protocol's answer, not a redirect).
    package static func location(status: Int, headers: HTTPHeaders) -> String? {
        guard (300..<400).contains(status), let l = headers.first(name: "Location"), !l.isEmpty else { return nil }
        return l
    }

    /// A redirect answered to a request carrying an upload's bytes, classified one way whatever the body's
    /// size or scheme. Nothing was sent to `location` (no bytes, no token): the part stays unconfirmed.
    /// - 307 Temporary Redirect keeps the method and says the move is for this request only: the same
    ///   part to the same URL again (`retryNow`, bounded by the attempt's tries and the delivery's retries),
    ///   as a load balancer's passing redirect would take it.
    /// - 301/308 say the URL moved for good (RFC 9110 §15.4.2, §15.4.9): the same request would meet
    ///   the same answer; 302/303 let a client turn the PUT/POST into a GET, which no upload endpoint takes.
    ///   None is retried blindly: the delivery fails (`rejected_by_platform`) naming where it pointed, and
    ///   a person checks the endpoint the account names or the platform's status.
    package static func failure(status: Int, location: String, url: String, what: String, platform: String) -> DeliveryError {
        let target = Self.host(location, relativeTo: url)
        let said =
            "\(platform) answered HTTP \(status) while \(what), redirecting it to \(target); OmniPost does not send an upload's bytes or credentials to another address than the one its upload session named"
        if status == 307 {
            return DeliveryError(
                .retryNow, .platformError,
                said + " — the redirect says it is temporary, so the part is sent again to the same URL; if this keeps happening, check the account's endpoint", httpStatus: status)
        }
        return DeliveryError(
            .permanent, .rejectedByPlatform, said + " — check the endpoint the account names (or whether the platform moved its upload service), then retry the delivery",
            httpStatus: status)
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
