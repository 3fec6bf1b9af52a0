import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore
import OmniPostWire

/// An S3-compatible bucket (AWS, R2, MinIO, Backblaze, a NAS's own): every request SigV4-signed, in
/// path style (`endpoint/bucket/key`) or virtual-host style (`bucket.endpoint/key`). The media host
/// puts whole objects and hands out presigned GET links; the S3 target uses the multipart calls
/// (`S3Bucket+Multipart.swift`).
package struct S3Bucket: Sendable {
    package var config: MediaHostConfig.S3
    /// A client that never follows a redirect (`UploadRedirect`): every request is SigV4-signed over its
    /// Host, so S3's 307 followed elsewhere could only be refused (`S3Bucket+Region.swift`).
    let http: HTTPClient
    var timeout: Duration = .seconds(600)
    /// Where the bucket's settings are written (`accounts: clips`, `media_host: s3:`, `inbox: s3:`): the
    /// same requests serve the S3 target, the media host and the S3 inbox, so a sentence that says which
    /// `region:` to change names its block. Set where each bucket is made.
    package var settingsBlock = "the bucket's settings"

    package init(_ config: MediaHostConfig.S3, http: HTTPClient, timeout: Duration = .seconds(600)) {
        self.config = config
        self.http = http
        self.timeout = timeout
    }

    /// Whether a part's payload is signed (its sha256 in the signature) — over plain HTTP only, as every
    /// AWS SDK does it: botocore's `S3SigV4Auth._should_sha256_sign_payload`, the Java SDK's
    /// `AWS4UnsignedPayloadSigner` ("payloads are still signed for requests over HTTP"). Over HTTPS TLS
    /// already checks every byte on the way, and each part carries its CRC-32C for S3 to check against
    /// what it stores (`S3Bucket.partChecksum`), ~10× cheaper to work out than the sha256.
    /// An account with `part_checksums: false` (an S3-compatible store that refuses or ignores
    /// `x-amz-checksum-*`, as older MinIO and Ceph do) signs every payload.
    package var signsPayload: Bool { parts.scheme.lowercased() != "https" || !config.partChecksums }

    var signer: SigV4 { SigV4(accessKeyID: config.accessKeyID, secretAccessKey: config.secretAccessKey, region: config.region) }

    /// scheme, host[:port] (the bucket in front of it in virtual-host style), and the endpoint's own
    /// path prefix (a server mounted below `/`).
    var parts: (scheme: String, host: String, base: String) {
        let u = URL(string: config.endpoint)
        let scheme = u?.scheme ?? "https"
        var host = u?.host ?? config.endpoint
        if let p = u?.port, !(scheme == "https" && p == 443) && !(scheme == "http" && p == 80) { host += ":\(p)" }
        if !config.pathStyle { host = config.bucket + "." + host }
        let base = (u?.path ?? "").hasSuffix("/") ? String((u?.path ?? "").dropLast()) : (u?.path ?? "")
        return (scheme, host, base)
    }

    /// Where the object is (not a link anyone can open: the bucket's own access rules apply).
    package func objectURL(_ key: String) -> String {
        let (scheme, host, _) = parts
        return "\(scheme)://\(host)\(SigV4.encodePath(objectPath(key)))"
    }

    func objectPath(_ key: String) -> String { config.pathStyle ? parts.base + "/" + config.bucket + "/" + key : parts.base + "/" + key }

    /// One signed request. `sha256` is the body's (hex); a body of bytes read as sent (a file) passes
    /// its known hash, so S3 itself refuses bytes that differ from what was hashed.
    func send(
        _ method: HTTPMethod, key: String?, query: [(String, String)] = [], headers: [String: String] = [:],
        body: HTTPClientRequest.Body? = nil, length: Int64 = 0, sha256: String = SigV4.emptySHA256,
        collect: Int = 8 << 20
    ) async throws -> (HTTPClientResponse, ByteBuffer) {
        let req = signed(method, key: key, query: query, headers: headers, body: body, length: length, sha256: sha256)
        do {
            // A request with no body (the multipart start, a HEAD, a GET, a DELETE) is sent again at once,
            // once, when answered a bare 307 (a load balancer's; S3's own names its region and comes back the
            // same), as every other platform's start is; one with a body is not — it may stream from a file
            // (the media host's PUT), not sent twice here — and its 307 leaves as the retryable failure
            // `refusal` makes of it (a part's is the chunk loop's to retry).
            if body == nil {
                return try await UploadRedirect.execute(req, on: http, timeout: timeout, collect: collect) { headers, body in
                    Self.isBare(headers, code: XMLTags.first("Code", in: String(buffer: body)) ?? "")
                }
            }
            let resp = try await http.execute(req, timeout: .seconds(Int64(timeout.seconds)))
            let text = try await resp.body.collect(upTo: collect)
            return (resp, text)
        } catch {
            throw DeliveryError(.retryNow, .networkError, "\(config.endpoint) could not be reached: \(error)")
        }
    }

    /// One request, signed: its URL, its headers and the SigV4 signature over them (`send` sends it and
    /// reads the answer; a download streams it).
    package func signed(
        _ method: HTTPMethod, key: String?, query: [(String, String)] = [], headers: [String: String] = [:],
        body: HTTPClientRequest.Body? = nil, length: Int64 = 0, sha256: String = SigV4.emptySHA256
    ) -> HTTPClientRequest {
        let (scheme, host, base) = parts
        let path = key.map(objectPath) ?? (config.pathStyle ? base + "/" + config.bucket : base + "/")
        var toSign = headers
        toSign["host"] = host
        if body != nil { toSign["content-length"] = String(length) }
        let signed = signer.sign(method: method.rawValue, path: path, query: query, headers: toSign, payloadSHA256: sha256)
        var url = "\(scheme)://\(host)\(SigV4.encodePath(path))"
        if !query.isEmpty { url += "?" + SigV4.canonicalQuery(query) }
        var req = HTTPClientRequest(url: url)
        req.method = method
        for (k, v) in headers { req.headers.add(name: k, value: v) }
        if let body {
            req.headers.add(name: "Content-Length", value: String(length))
            req.body = body
        }
        for (k, v) in signed { req.headers.add(name: k, value: v) }
        return req
    }

    /// S3's refusal, classified: 5xx and SlowDown wait and try again (Retry-After when given), bad keys
    /// need a person, a missing bucket or a refused request is permanent. `what` names the request.
    /// `head`: the request was a HEAD, whose answer has no body (no `<Code>` to read). A bare redirect (no
    /// `<Code>`, no region header) is a load balancer's, whatever the request (`S3Bucket+Redirect.swift`);
    /// `carriesBytes`: a part or an object's PUT, as its sentence says.
    /// `endpoint`: whose endpoint a load balancer's redirect sends a person to check (the media host's own).
    func refusal(
        _ resp: HTTPClientResponse, _ body: ByteBuffer, _ what: String, head: Bool = false, carriesBytes: Bool = false,
        endpoint: UploadRedirect.Endpoint = .account
    ) -> DeliveryError {
        classified(resp, body, what, head: head, carriesBytes: carriesBytes, endpoint: endpoint).error
    }

    /// `refusal`, and whether its sentence already says what to change (a redirect's endpoint, the region,
    /// the keys — each naming the settings it is in), so a caller adds its own instruction only where none
    /// is: one instruction a sentence.
    func classified(
        _ resp: HTTPClientResponse, _ body: ByteBuffer, _ what: String, head: Bool = false, carriesBytes: Bool = false,
        endpoint: UploadRedirect.Endpoint = .account
    ) -> (error: DeliveryError, instructs: Bool) {
        let text = String(buffer: body)
        let code = XMLTags.first("Code", in: text) ?? ""
        let message = XMLTags.first("Message", in: text).map { ": \($0)" } ?? ""
        let status = Int(resp.status.code)
        let said = "\(what) was refused (HTTP \(status) \(code)\(message))"
        if let e = passingRedirect(status, code: code, headers: resp.headers, what: what, carriesBytes: carriesBytes, endpoint: endpoint) { return (e, true) }
        // The bucket is in another region (a redirect, or a signature for the wrong region): settings to fix.
        if let e = misaddressed(status, code: code, text: text, headers: resp.headers, what: what, bodiless: head && text.isEmpty) { return (e, true) }
        if status >= 500 || status == 429 || ["SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable"].contains(code) {
            if resp.headers.first(name: "Retry-After") != nil {
                return (DeliveryError(.retryAt(RetryAfter.date(resp.headers, default: 5)), .rateLimited, said, httpStatus: status), false)
            }
            return (DeliveryError(.retryNow, .platformError, said, httpStatus: status), false)
        }
        // The bytes arrived other than what vouched for them (a part's checksum or signed sha256): damaged on
        // the way, as tus's 460 — the part is sent again (`PartRetry`), the file itself was checked as read.
        if ["BadDigest", "XAmzContentSHA256Mismatch"].contains(code) {
            return (DeliveryError(.retryNow, .platformError, said + "; the bytes arrived damaged and are sent again", httpStatus: status), false)
        }
        // Keys or a policy a person must fix (a HEAD's 403 carries no body to say which): the account's
        // deliveries wait for them, other targets go on.
        if ["InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "AccessDenied"].contains(code) || (status == 403 && code.isEmpty) {
            return (
                DeliveryError(
                    .reauthenticate, .authRevoked, said + "; check the access key, its secret and the bucket's policy under \(settingsBlock)", httpStatus: status),
                true
            )
        }
        return (DeliveryError(.permanent, .configInvalid, said + (code == "NoSuchBucket" ? "; the bucket \(config.bucket) does not exist" : ""), httpStatus: status), false)
    }

    /// PUTs a file as `key` in one request (the media host).
    package func put(file: String, key: String, size: Int64, sha256: String, contentType: String, timeout: Duration = .seconds(600)) async throws {
        var me = self
        me.timeout = timeout
        let (resp, body) = try await me.send(
            .PUT, key: key, headers: ["content-type": contentType],
            body: .stream(FileStream.body(file: file), length: .known(size)), length: size, sha256: sha256)
        guard (200..<300).contains(Int(resp.status.code)) else {
            let (refused, instructs) = classified(resp, body, "the media host's PUT of the rendition", carriesBytes: true, endpoint: .mediaHost)
            var e = refused
            // A load balancer's 303/308 in front of the media host's bucket (the one `rejected_by_platform`
            // `refusal` makes) is the pipeline's setup to fix, its sentence already naming media_host's
            // endpoint as the one thing to check; a 307 is tried again as it is.
            if e.code == .rejectedByPlatform {
                e.code = .configInvalid
                throw e
            }
            // The media host is the pipeline's, not the account's: refused keys are its setup to fix — one
            // instruction: the refusal's own where it names one (the keys, the region, each under
            // `media_host: s3:`), else the media host's settings as a whole.
            if e.kind == .permanent || e.kind == .reauthenticate {
                e.kind = .permanent
                e.code = .configInvalid
                if !instructs { e.message += "; check media_host's bucket, region and keys" }
            }
            throw e
        }
    }

    /// A link to `key` that anyone can GET for `ttl` seconds, then no one.
    package func presignedGET(key: String, ttl: Int, now: Date = Date()) -> String {
        let (scheme, host, _) = parts
        return signer.presignedGET(scheme: scheme, host: host, path: objectPath(key), expires: ttl, date: now)
    }
}
