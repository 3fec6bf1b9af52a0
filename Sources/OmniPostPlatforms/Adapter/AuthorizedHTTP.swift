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

    let http: HTTPClient
    let tokens: TokenProvider
    let timeout: Duration
    /// Where the access token goes (the descriptor's `tokenHeader`): `Authorization: Bearer`, or a header
    /// of the platform's own (Douyin's `access-token`).
    var tokenHeader: PlatformDescriptor.TokenHeader = .bearer
    /// A refused token that arrives as a success (Douyin answers an expired token with HTTP 200 and
    /// `data.error_code` 2190008): refreshed once and repeated, as a 401 is.
    var tokenRefused: (@Sendable (Reply) -> Bool)? = nil

    package init(http: HTTPClient, tokens: TokenProvider, timeout: Duration) {
        self.http = http
        self.tokens = tokens
        self.timeout = timeout
    }

    package func send(url: String, method: HTTPMethod, headers: [(String, String)], body: ByteBuffer, authorize: Bool = true) async throws -> Reply {
        try await send(url: url, method: method, headers: headers, pieces: [body], authorize: authorize)
    }

    /// A body sent as the buffers it is made of, one after the other, never joined into one (a multipart
    /// form around a part's buffer: `MultipartForm.pieces`).
    package func send(url: String, method: HTTPMethod, headers: [(String, String)], pieces: [ByteBuffer], authorize: Bool = true) async throws -> Reply {
        let length = pieces.reduce(0) { $0 + $1.readableBytes }
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
            req.headers.add(name: "Content-Length", value: String(length))
            // One buffer, never a stream: a platform (or the sandbox) that answers before it has read the
            // body — a 401 for a revoked token — leaves a streamed body waiting for demand that never comes,
            // and the request hangs until its timeout (the douyin conformance case after a revocation did);
            // a buffer AsyncHTTPClient writes whole, and reads the early answer. The join costs one copy of
            // the part, as the form buffer did before.
            req.body = .bytes(Self.joined(pieces, length: length))
            let resp: HTTPClientResponse
            let data: ByteBuffer
            do {
                resp = try await http.execute(req, timeout: .seconds(Int64(timeout.seconds)))
                data = try await resp.body.collect(upTo: 4 << 20)
            } catch {
                throw DeliveryError(.retryNow, .networkError, "connection to \(url.split(separator: "?").first ?? "") failed: \(error)")
            }
            let reply = Reply(status: Int(resp.status.code), headers: resp.headers, body: Data(buffer: data))
            if authorize && !refreshed && (resp.status == .unauthorized || tokenRefused?(reply) == true) {
                refreshed = true
                await tokens.invalidate(rejected: sentToken)
                continue
            }
            return reply
        }
    }

}

extension AuthorizedHTTP {
    /// The pieces of a body in one buffer (the one piece itself when there is one: no copy).
    static func joined(_ pieces: [ByteBuffer], length: Int) -> ByteBuffer {
        if pieces.count == 1 { return pieces[0] }
        var out = ByteBuffer()
        out.reserveCapacity(length)
        for var p in pieces { out.writeBuffer(&p) }
        return out
    }
}
