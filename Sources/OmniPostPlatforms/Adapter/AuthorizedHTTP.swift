import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import OmniPostCore

/// The HTTP every adapter needs: a bearer token from the account's provider, one refresh and repeat
/// on a 401, a hard timeout on every request, and connection failures classified as retry-now.
package struct AuthorizedHTTP: Sendable {
    package struct Reply: Sendable {
        package var status: Int
        package var headers: HTTPHeaders
        package var body: Data
    }

    var http: HTTPClient
    let tokens: TokenProvider
    let timeout: Duration
    /// Where the access token goes (the descriptor's `tokenHeader`): `Authorization: Bearer`, or a header
    /// of the platform's own (Douyin's `access-token`).
    var tokenHeader: PlatformDescriptor.TokenHeader = .bearer
    /// A refused token that arrives as a success (Douyin answers an expired token with HTTP 200 and
    /// `data.error_code` 2190008): refreshed once and repeated, as a 401 is.
    var tokenRefused: (@Sendable (Reply) -> Bool)? = nil
    /// Set where `http` is the client that never follows a redirect (`AdapterSettings.api` and `.parts`):
    /// the platform's name, for the one failure a 3xx naming a `Location` is (`UploadRedirect`).
    var refusesRedirects: String? = nil
    /// Whether the requests carry an upload's bytes (`AdapterSettings.parts`): the redirect's sentence says so.
    var carriesUpload = false
    /// Statuses the calling protocol defines as its own answer even when they name a `Location` on the
    /// request's own origin, handed back rather than refused: YouTube's `308 Resume Incomplete`, whose
    /// `Location` (when there is one) is the session's new URI, as Google's own clients read it
    /// (`YouTubeResumable`). One that points to another scheme, host or port is refused as any redirect:
    /// an upload's bytes and token do not leave the host its session named.
    var protocolAnswers: Set<Int> = []

    package init(http: HTTPClient, tokens: TokenProvider, timeout: Duration) {
        self.http = http
        self.tokens = tokens
        self.timeout = timeout
    }

    package func send(url: String, method: HTTPMethod, headers: [(String, String)], body: ByteBuffer, authorize: Bool = true) async throws -> Reply {
        var refreshed = false
        while true {
            var req = HTTPClientRequest(url: url)
            req.method = method
            var sentToken: String?
            if authorize {
                let token = try await tokens.accessToken()
                sentToken = token
                switch tokenHeader {
                case .bearer: req.headers.add(name: "Authorization", value: "Bearer \(token)")
                case .named(let name): req.headers.add(name: name, value: token)
                case .query(let name): req.url = url + (url.contains("?") ? "&" : "?") + TokenProvider.form([(name, token)])
                }
            }
            for (k, v) in headers { req.headers.add(name: k, value: v) }
            // The buffer itself, in slices over TLS (`BodySlices`: what NIOSSL holds encrypted at once);
            // AsyncHTTPClient sets Content-Length from its known length.
            req.body = BodySlices.body(body, tls: BodySlices.tls(req.url))
            let resp: HTTPClientResponse
            let data: ByteBuffer
            do {
                // A 307 sent again at once, once (`UploadRedirect.execute`): the body is a buffer. Where
                // `http` follows redirects (an account check's), there is none to see.
                (resp, data) = try await UploadRedirect.execute(req, on: http, timeout: timeout, collect: 4 << 20)
            } catch {
                throw DeliveryError(.retryNow, .networkError, "connection to \(url.split(separator: "?").first ?? "") failed: \(error)")
            }
            let reply = Reply(status: Int(resp.status.code), headers: resp.headers, body: Data(buffer: data))
            if let platform = refusesRedirects,
                !(protocolAnswers.contains(reply.status) && UploadRedirect.sameOrigin(reply.headers.first(name: "Location") ?? "", as: url))
            {
                let call = "\(method.rawValue) \(UploadRedirect.bare(url))"
                try UploadRedirect.refuse(
                    status: reply.status, headers: reply.headers, url: url, what: carriesUpload ? "while sending an upload's bytes (\(call))" : "to \(call)",
                    platform: platform)
            }
            if authorize && !refreshed && (resp.status == .unauthorized || tokenRefused?(reply) == true) {
                refreshed = true
                await tokens.invalidate(rejected: sentToken)
                continue
            }
            return reply
        }
    }

}
