import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore

/// A tus 1.0 client (tus.io/protocols/resumable-upload): creation, `HEAD` for the offset the server
/// holds, `PATCH` from exactly that offset, the checksum extension where the server offers it. A
/// general piece: the `tus:` target speaks it to any tus server, Vimeo's adapter to Vimeo's.
package struct TusClient: Sendable {
    /// The client every request goes through: one that follows no redirect (`AdapterSettings.uploads`,
    /// `UploadRedirect`), so the creation, the `HEAD`s and the `PATCH`es share its connection, and a 3xx
    /// naming a `Location` is one failure rather than an upload's bytes sent where a reply points.
    let http: HTTPClient
    var timeout: Duration
    /// Sent with every request (a server's own authorization, say).
    var headers: [(String, String)]

    package init(http: HTTPClient = UploadRedirect.shared, timeout: Duration = .seconds(120), headers: [(String, String)] = []) {
        self.http = http
        self.timeout = timeout
        self.headers = headers
    }

    package static let version = "1.0.0"

    /// What `OPTIONS` says the server supports.
    package struct Capabilities: Sendable, Equatable {
        package var extensions: Set<String> = []
        package var checksums: [String] = []
        package var maxSize: Int64? = nil
        /// The checksum algorithm the server takes: sha1 (every server with the extension must take it), or none.
        package var checksum: String? { extensions.contains("checksum") && checksums.contains("sha1") ? "sha1" : nil }

        /// The checksum each `PATCH` to `uploadURL` carries. The extension is the client's choice ("A Client
        /// MAY include the `Upload-Checksum` header", tus 1.0 § Checksum); tus-js-client never sends one,
        /// tus-py-client only when asked (`upload_checksum`), and tusd does not offer the extension at all.
        /// So, as the AWS SDKs treat S3's signed payload: over plain HTTP a part carries its sha1 where the
        /// server offers it (nothing else checks the bytes end to end); over HTTPS TLS authenticates every
        /// record of the part on its way, and the sha1 — half the client's CPU a GiB beside curl's — is
        /// left out. `forced` (the account's `upload_checksum`) says yes or no whatever the scheme.
        package func checksum(for uploadURL: String, forced: Bool? = nil) -> String? {
            guard forced ?? !uploadURL.lowercased().hasPrefix("https:") else { return nil }
            return checksum
        }
    }

    func request(_ url: String, _ method: HTTPMethod) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: url)
        r.method = method
        r.headers.add(name: "Tus-Resumable", value: Self.version)
        for (k, v) in headers { r.headers.add(name: k, value: v) }
        return r
    }

    func execute(_ r: HTTPClientRequest, _ what: String) async throws -> (HTTPClientResponse, String) {
        let resp: HTTPClientResponse
        let body: ByteBuffer
        do {
            if r.method == .PATCH {
                // Handed back as it came, a 307 too: the chunk loop already retries a PATCH (`PartRetry`),
                // asking the server its offset with a HEAD first, as it does for a cut one.
                resp = try await http.execute(r, timeout: .seconds(Int64(timeout.seconds)))
                body = try await resp.body.collect(upTo: 1 << 20)
            } else {
                // The creation, a HEAD, OPTIONS carry no bytes and change nothing when redirected:
                // a 307 is sent again at once, once, as every other platform's start is.
                (resp, body) = try await UploadRedirect.execute(r, on: http, timeout: timeout, collect: 1 << 20)
            }
        } catch {
            throw DeliveryError(.retryNow, .networkError, "\(what): \(UploadRedirect.bare(r.url)) could not be reached: \(error)")
        }
        try UploadRedirect.refuse(
            status: Int(resp.status.code), headers: resp.headers, url: r.url, what: "to \(r.method.rawValue) \(UploadRedirect.bare(r.url)) (\(what))",
            platform: "the tus server")
        return (resp, String(buffer: body))
    }

    /// A failure status, classified: 5xx/429 again later (Retry-After when given), 401/403 credentials,
    /// anything else for good.
    func failure(_ resp: HTTPClientResponse, _ body: String, _ what: String) -> DeliveryError {
        let status = Int(resp.status.code)
        let said = "\(what) was answered \(status)" + (body.isEmpty ? "" : ": " + Excerpt.quote(String(body.prefix(300))))
        if status >= 500 || status == 429 || status == 423 {
            if resp.headers.first(name: "Retry-After") != nil {
                return DeliveryError(.retryAt(RetryAfter.date(resp.headers, default: 10)), .rateLimited, said, httpStatus: status)
            }
            return DeliveryError(.retryNow, .platformError, said, httpStatus: status)
        }
        if status == 401 || status == 403 { return DeliveryError(.reauthenticate, .authRevoked, said, httpStatus: status) }
        return DeliveryError(.permanent, .platformError, said, httpStatus: status)
    }

    package func capabilities(_ endpoint: String) async -> Capabilities {
        guard let (resp, _) = try? await execute(request(endpoint, .OPTIONS), "OPTIONS"), (200..<300).contains(Int(resp.status.code)) else {
            return Capabilities()
        }
        func list(_ name: String) -> [String] {
            (resp.headers.first(name: name) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return Capabilities(
            extensions: Set(list("Tus-Extension")), checksums: list("Tus-Checksum-Algorithm"),
            maxSize: resp.headers.first(name: "Tus-Max-Size").flatMap { Int64($0) })
    }

    /// Creates an upload of `length` bytes (the creation extension); returns its URL.
    package func create(_ endpoint: String, length: Int64, metadata: [(String, String)]) async throws -> String {
        var r = request(endpoint, .POST)
        r.headers.add(name: "Upload-Length", value: String(length))
        r.headers.add(name: "Content-Length", value: "0")
        if !metadata.isEmpty {
            r.headers.add(name: "Upload-Metadata", value: metadata.map { "\($0.0) \(Data($0.1.utf8).base64EncodedString())" }.joined(separator: ","))
        }
        let (resp, body) = try await execute(r, "creating the upload")
        guard resp.status == .created, let location = resp.headers.first(name: "Location") else {
            if resp.status == .payloadTooLarge { throw DeliveryError(.permanent, .fileTooLarge, "the tus server refuses uploads of \(length) bytes", httpStatus: 413) }
            throw failure(resp, body, "creating the upload at \(endpoint)")
        }
        return URL(string: location, relativeTo: URL(string: endpoint))?.absoluteString ?? location
    }

    /// How many bytes the server holds of the upload, and its length; nil when it no longer knows it (404, 410).
    package func offset(_ url: String) async throws -> (offset: Int64, length: Int64?)? {
        let (resp, body) = try await execute(request(url, .HEAD), "asking for the upload's offset")
        if resp.status == .notFound || resp.status == .gone { return nil }
        guard (200..<300).contains(Int(resp.status.code)), let offset = resp.headers.first(name: "Upload-Offset").flatMap({ Int64($0) }) else {
            throw failure(resp, body, "HEAD \(UploadRedirect.bare(url))")
        }
        return (offset, resp.headers.first(name: "Upload-Length").flatMap { Int64($0) })
    }

    package enum PatchResult: Sendable, Equatable {
        case accepted(Int64)
        /// 409: the offset sent is not the server's; ask it (`offset`) and go on from there.
        case conflict
        /// 404/410: the server no longer knows the upload.
        case gone
    }

    /// Sends `bytes` (the buffer as read, not copied) at `offset`. `checksum` is the `Upload-Checksum`
    /// value (`sha1 <base64>`), worked out by the caller off the send path; the server's 460 for a
    /// mismatch means the bytes arrived damaged: sent again.
    package func patch(_ url: String, offset: Int64, bytes: ByteBuffer, checksum: String?) async throws -> PatchResult {
        var r = request(url, .PATCH)
        r.headers.add(name: "Upload-Offset", value: String(offset))
        r.headers.add(name: "Content-Type", value: "application/offset+octet-stream")
        if let checksum { r.headers.add(name: "Upload-Checksum", value: checksum) }
        // Content-Length from the body's known length.
        r.body = BodySlices.body(bytes, tls: BodySlices.tls(url))
        let (resp, body) = try await execute(r, "sending bytes from \(offset)")
        switch Int(resp.status.code) {
        case 200, 204:
            guard let next = resp.headers.first(name: "Upload-Offset").flatMap({ Int64($0) }) else {
                throw DeliveryError(.retryNow, .platformError, "the tus server's reply to PATCH has no Upload-Offset")
            }
            return .accepted(next)
        case 409: return .conflict
        case 404, 410: return .gone
        case 460: throw DeliveryError(.retryNow, .platformError, "the tus server says the bytes from \(offset) arrived damaged (460 checksum mismatch)", httpStatus: 460)
        default: throw failure(resp, body, "PATCH from \(offset)")
        }
    }
}
