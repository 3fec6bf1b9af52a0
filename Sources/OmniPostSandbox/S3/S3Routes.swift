import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore
import OmniPostWire

/// An S3-compatible bucket service under `/s3` (path-style: `/s3/{bucket}/{key}`): CreateBucket,
/// PutObject, GetObject, HeadObject and the multipart calls (create, UploadPart, ListParts, complete
/// with S3's checks, abort), each checked as S3 checks it — a SigV4 `Authorization` header, or a
/// presigned link's query (refused once `X-Amz-Date + X-Amz-Expires` has passed). A signed payload
/// hash must match the bytes; `aws-chunked` bodies (what AWS SDKs send with checksum trailers) are
/// decoded. Errors are S3's XML. It is the media host Threads fetches from in sandbox mode, and the
/// bucket of an `s3:` target that names no endpoint.
enum S3Routes: SandboxPlatform {
    static func error(_ status: Int, _ code: String, _ message: String) -> Response {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>\(code)</Code><Message>\(message)</Message><RequestId>\(SandboxState.randomID(16))</RequestId></Error>"
        return Response(status: .init(code: status), headers: [.contentType: "application/xml"], body: .init(byteBuffer: ByteBuffer(string: xml)))
    }

    /// Checks a request's SigV4 (header or presigned query). Nil when it holds, else S3's refusal.
    static func authenticate(_ req: Request, path: String, payloadHash: String?, state: SandboxState) async -> Response? {
        var query: [(String, String)] = []
        for (k, v) in req.uri.queryParameters { query.append((String(k), String(v).removingPercentEncoding ?? String(v))) }
        // Signature Version 2 query links (`AWSAccessKeyId`, `Expires`, `Signature`): what AWS SDKs still
        // make by default for GetObject; S3 accepts them beside SigV4.
        if let v2 = query.first(where: { $0.0 == "Signature" })?.1, let key = query.first(where: { $0.0 == "AWSAccessKeyId" })?.1 {
            guard let secret = await state.s3Secret(key) else {
                return error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
            }
            let expires = query.first { $0.0 == "Expires" }?.1 ?? "0"
            if Date().timeIntervalSince1970 > Double(expires) ?? 0 { return error(403, "AccessDenied", "Request has expired") }
            let rawPath = req.uri.path
            let candidates = [rawPath, rawPath.hasPrefix("/s3/") ? String(rawPath.dropFirst(3)) : rawPath]
            let ok = candidates.contains { resource in
                let toSign = "\(req.method.rawValue)\n\n\n\(expires)\n\(resource)"
                let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(toSign.utf8), using: SymmetricKey(data: Data(secret.utf8)))
                return Data(mac).base64EncodedString() == v2
            }
            return ok
                ? nil : error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
        }
        let presigned = query.first { $0.0 == "X-Amz-Signature" }?.1
        let credential: String, signedHeaders: [String], signature: String, amzDate: String, payload: String
        if let presigned {
            credential = query.first { $0.0 == "X-Amz-Credential" }?.1 ?? ""
            signedHeaders = (query.first { $0.0 == "X-Amz-SignedHeaders" }?.1 ?? "").split(separator: ";").map(String.init)
            amzDate = query.first { $0.0 == "X-Amz-Date" }?.1 ?? ""
            signature = presigned
            payload = SigV4.unsignedPayload
            query.removeAll { $0.0 == "X-Amz-Signature" }
            let expires = Double(query.first { $0.0 == "X-Amz-Expires" }?.1 ?? "") ?? 0
            guard let start = SigV4Dates.parse(amzDate) else { return error(403, "AuthorizationQueryParametersError", "X-Amz-Date is not yyyyMMddTHHmmssZ") }
            if Date() > start.addingTimeInterval(expires) { return error(403, "AccessDenied", "Request has expired") }
        } else {
            guard let auth = SandboxHTTP.header(req, "Authorization"), auth.hasPrefix(SigV4.algorithm + " ") else {
                return error(403, "AccessDenied", "Access Denied")
            }
            var fields: [String: String] = [:]
            for part in auth.dropFirst(SigV4.algorithm.count + 1).split(separator: ",") {
                let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
                if kv.count == 2 { fields[kv[0]] = kv[1] }
            }
            credential = fields["Credential"] ?? ""
            signedHeaders = (fields["SignedHeaders"] ?? "").split(separator: ";").map(String.init)
            signature = fields["Signature"] ?? ""
            amzDate = SandboxHTTP.header(req, "x-amz-date") ?? ""
            payload = SandboxHTTP.header(req, "x-amz-content-sha256") ?? ""
        }
        // Every `x-amz-*` header a request carries must be signed, as S3 requires of SigV4: an unsigned
        // checksum or storage header could be changed on the way without the signature noticing.
        let signedNames = Set(signedHeaders.map { $0.lowercased() })
        let unsigned = req.headers.map { $0.name.canonicalName.lowercased() }.filter { $0.hasPrefix("x-amz-") && !signedNames.contains($0) }
        if !unsigned.isEmpty {
            return error(403, "AccessDenied", "There were headers present in the request which were not signed: \(unsigned.joined(separator: ", "))")
        }
        let scope = credential.split(separator: "/").map(String.init)
        // A bucket of another region than the request's scope names: S3 says where it is before it looks
        // at the signature (which it could not check: the region is in the signing key).
        if scope.count == 5, let bucket = path.split(separator: "/").dropFirst().first.map(String.init),
            let home = await state.s3BucketHome(bucket), home.region != scope[2]
        {
            return misaddressed(req, bucket: bucket, home: home, signedFor: scope[2], presigned: presigned != nil)
        }
        guard scope.count == 5, let secret = await state.s3Secret(scope[0]) else {
            return error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
        }
        var headers: [String: String] = [:]
        for name in signedHeaders {
            if name == "host" { headers[name] = req.head.authority ?? SandboxHTTP.header(req, "Host") ?? "" } else { headers[name] = SandboxHTTP.header(req, name) ?? "" }
        }
        let signer = SigV4(accessKeyID: scope[0], secretAccessKey: secret, region: scope[2], service: scope[3])
        let expected = signer.expectedSignature(
            method: req.method.rawValue, path: path, query: query, headers: headers, signedHeaders: signedHeaders,
            payload: payload, amzDate: amzDate)
        guard expected == signature else {
            return error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
        }
        return nil
    }

    /// S3's answer to a request signed for another region than its bucket's (`S3BucketHome`), as AWS gives
    /// it: the bucket's region in `x-amz-bucket-region` always; a 301's `<Endpoint>` with no `Location`; a
    /// 307's `Location` (the request's path and query at the bucket's endpoint) and `<Endpoint>`; a 400's
    /// "the region '…' is wrong; expecting '…'" and `<Region>` (a presigned link's is
    /// AuthorizationQueryParametersError). Answered before the body is read, as S3 does.
    static func misaddressed(_ req: Request, bucket: String, home: SandboxState.S3BucketHome, signedFor: String, presigned: Bool) -> Response {
        let host = URL(string: home.endpoint).map { u in (u.host ?? "") + (u.port.map { ":\($0)" } ?? "") } ?? home.endpoint
        let id = SandboxState.randomID(16)
        var headers: HTTPFields = [.contentType: "application/xml", HTTPField.Name("x-amz-bucket-region")!: home.region]
        let status: Int, code: String, message: String, extra: String
        switch home.answer {
        case .permanentRedirect:
            (status, code) = (301, "PermanentRedirect")
            message = "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint."
            extra = "<Bucket>\(bucket)</Bucket><Endpoint>\(host)</Endpoint>"
        case .temporaryRedirect:
            (status, code) = (307, "TemporaryRedirect")
            message = "Please re-send this request to the specified temporary endpoint. Continue to use the original request endpoint for future requests."
            extra = "<Endpoint>\(host)</Endpoint><Bucket>\(bucket)</Bucket>"
            let base = home.endpoint.hasSuffix("/") ? String(home.endpoint.dropLast()) : home.endpoint
            headers[.location] = base + req.uri.path + (req.uri.query.map { "?" + $0 } ?? "")
        case .authorizationHeaderMalformed:
            status = 400
            code = presigned ? "AuthorizationQueryParametersError" : "AuthorizationHeaderMalformed"
            message = "The authorization \(presigned ? "query parameters are" : "header is") malformed; the region '\(signedFor)' is wrong; expecting '\(home.region)'"
            extra = "<Region>\(home.region)</Region>"
        }
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>\(code)</Code><Message>\(message)</Message>\(extra)<RequestId>\(id)</RequestId></Error>"
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: xml)))
    }

    static func xml(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/xml"],
            body: .init(byteBuffer: ByteBuffer(string: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + body)))
    }

    /// A stored part's or object's answer names the checksum S3 checked (`x-amz-checksum-*`): what the AWS
    /// SDKs' transfer manager names each part by in complete.
    static func checked(_ sums: [(String, String)], _ headers: HTTPFields) -> HTTPFields {
        var h = headers
        for (algorithm, value) in sums { if let name = HTTPField.Name("x-amz-checksum-" + algorithm.lowercased()) { h[name] = value } }
        return h
    }

    static let noSuchUpload = error(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")

    /// The query's value for `name` (nil when absent; `?uploads` has an empty one).
    static func query(_ req: Request, _ name: String) -> String? {
        for (k, v) in req.uri.queryParameters where String(k) == name { return String(v).removingPercentEncoding ?? String(v) }
        return nil
    }

    /// The object headers S3 keeps and returns: `x-amz-meta-*`, the storage class, the content type.
    static func objectHeaders(_ req: Request) -> [String: String] {
        var out: [String: String] = [:]
        for f in req.headers {
            let name = f.name.canonicalName.lowercased()
            if name.hasPrefix("x-amz-meta-") || name == "x-amz-storage-class" { out[name] = f.value }
        }
        if let t = SandboxHTTP.header(req, "Content-Type") { out["content-type"] = t }
        return out
    }

    /// A request body as bytes, `aws-chunked` decoded and checked against its signed sha256.
    enum Body { case success(Data), failure(Response) }
    static func body(_ req: Request) async throws -> Body {
        var req = req
        var body = Data(buffer: try await req.collectBody(upTo: 2 << 30))
        let declared = SandboxHTTP.header(req, "x-amz-content-sha256") ?? ""
        if declared.hasPrefix("STREAMING-") || (SandboxHTTP.header(req, "Content-Encoding") ?? "").contains("aws-chunked") {
            guard let decoded = AWSChunked.decode(body) else { return .failure(error(400, "IncompleteBody", "The aws-chunked body could not be read")) }
            body = decoded
        }
        if declared.count == 64, declared != FileHashing.sha256(data: body) {
            return .failure(error(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."))
        }
        return .success(body)
    }

    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        // The sandbox's control of where a bucket lives (not S3's API): `{"region", "answer", "endpoint"}`
        // (`S3BucketHome`; `answer` PermanentRedirect, TemporaryRedirect or AuthorizationHeaderMalformed,
        // `endpoint` this sandbox's by default); `DELETE` puts the bucket back wherever it is asked for.
        router.put("/sandbox/s3/:bucket/home") { req, ctx -> Response in
            struct Home: Decodable {
                var region: String
                var answer: SandboxState.S3BucketHome.Answer?
                var endpoint: String?
            }
            var req = req
            guard let h = try? JSONDecoder().decode(Home.self, from: Data(buffer: try await req.collectBody(upTo: 64 * 1024))) else {
                return SandboxHTTP.json(.badRequest, ["error": "region is required; answer is PermanentRedirect, TemporaryRedirect or AuthorizationHeaderMalformed"])
            }
            let home = SandboxState.S3BucketHome(region: h.region, answer: h.answer ?? .permanentRedirect, endpoint: h.endpoint ?? baseURL())
            await state.setS3BucketHome(ctx.parameters.get("bucket") ?? "", home)
            return SandboxHTTP.json(.ok, ["ok": true])
        }
        router.delete("/sandbox/s3/:bucket/home") { _, ctx -> Response in
            await state.setS3BucketHome(ctx.parameters.get("bucket") ?? "", nil)
            return SandboxHTTP.json(.ok, ["ok": true])
        }
        router.put("/s3/:bucket") { req, ctx -> Response in
            let bucket = ctx.parameters.get("bucket") ?? ""
            if let refusal = await authenticate(req, path: "/s3/\(bucket)", payloadHash: nil, state: state) { return refusal }
            await state.createBucket(bucket)
            return Response(status: .ok, headers: [.location: "/\(bucket)"])
        }
        // PutObject, or UploadPart (`?partNumber=N&uploadId=…`).
        router.put("/s3/:bucket/**") { req, ctx -> Response in
            let bucket = ctx.parameters.get("bucket") ?? ""
            let key = ctx.parameters.getCatchAll().joined(separator: "/").removingPercentEncoding ?? ""
            // `redirectChunks`: a load balancer in front of the bucket moving the request before its body is
            // read or its signature checked — a bare 3xx, no S3 XML and no `x-amz-bucket-region`, unlike
            // S3's own answer for a bucket of another region (`S3BucketHome`). Counted as the part or put.
            if let moved = await ChunkRedirect.next(state) {
                await state.count(query(req, "uploadId") == nil ? "s3.put" : "s3.part")
                return moved
            }
            if let refusal = await authenticate(req, path: "/s3/\(bucket)/\(key)", payloadHash: nil, state: state) { return refusal }
            let data: Data
            switch try await body(req) {
            case .success(let d): data = d
            case .failure(let r): return r
            }
            // At most one `x-amz-checksum-*`, checked against the bytes as S3 checks it.
            let sums = S3Checksums.sent { SandboxHTTP.header(req, $0) }
            if sums.count > 1 { return error(400, "InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.") }
            if let (algorithm, value) = sums.first {
                guard S3Checksums.algorithms.contains(algorithm) else {
                    return error(400, "InvalidRequest", "This sandbox checks x-amz-checksum-crc32, -crc32c, -sha1 and -sha256 only")
                }
                if S3Checksums.digest(algorithm, data) != value {
                    return error(400, "BadDigest", "The \(algorithm) you specified did not match the calculated checksum.")
                }
            }
            if let uploadId = query(req, "uploadId"), let n = query(req, "partNumber").flatMap(Int.init) {
                await state.count("s3.part")
                // What vouched for the part: its signed sha256, or (unsigned) its checksum header.
                await state.count(SandboxHTTP.header(req, "x-amz-content-sha256") == SigV4.unsignedPayload ? "s3.part.unsigned" : "s3.part.signed")
                if let (algorithm, _) = sums.first { await state.count("s3.part.\(algorithm.lowercased())") }
                guard (1...10_000).contains(n) else { return error(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive") }
                if let expected = await state.uploadChecksumAlgorithm(uploadId: uploadId), sums.first?.0 != expected {
                    return error(
                        400, "InvalidRequest",
                        "Checksum Type mismatch occurred, expected checksum Type: \(expected.lowercased()), actual checksum Type: \(sums.first.map { $0.0.lowercased() } ?? "null")")
                }
                // A transfer cut mid-part: the bytes arrived and are dropped, the client is told it failed.
                if let status = await state.takeChunkFault() { return error(status, status >= 500 ? "InternalError" : "BadRequest", "injected fault") }
                await state.addReceived(Int64(data.count))
                guard let etag = try await state.putPart(uploadId: uploadId, bucket: bucket, key: key, number: n, data: data, checksum: sums.first?.1)
                else { return noSuchUpload }
                return Response(status: .ok, headers: checked(sums, [.eTag: "\"\(etag)\""]))
            }
            await state.count("s3.put")
            let headers = objectHeaders(req)
            let etag = try await state.putObject(
                bucket: bucket, key: key, data: data, contentType: headers["content-type"] ?? "binary/octet-stream",
                headers: headers.filter { $0.key != "content-type" })
            return Response(status: .ok, headers: checked(sums, [.eTag: "\"\(etag)\""]))
        }
        // CreateMultipartUpload (`?uploads`) and CompleteMultipartUpload (`?uploadId=…`).
        router.post("/s3/:bucket/**") { req, ctx -> Response in
            let bucket = ctx.parameters.get("bucket") ?? ""
            let key = ctx.parameters.getCatchAll().joined(separator: "/").removingPercentEncoding ?? ""
            if let refusal = await authenticate(req, path: "/s3/\(bucket)/\(key)", payloadHash: nil, state: state) { return refusal }
            if query(req, "uploads") != nil {
                await state.count("s3.create")
                // `redirectStarts`: answered before anything else is done for a CreateMultipartUpload, as a load balancer in front of the bucket would.
                if let moved = await ChunkRedirect.next(state, queue: .starts) { return moved }
                if let f = await state.takeInitFault() {
                    switch f {
                    case .rateLimited(let after):
                        var r = error(503, "SlowDown", "Please reduce your request rate.")
                        r.headers[.retryAfter] = String(after)
                        return r
                    case .status(let code): return error(code, code >= 500 ? "InternalError" : "InvalidRequest", "injected fault")
                    }
                }
                let algorithm = SandboxHTTP.header(req, "x-amz-checksum-algorithm")?.uppercased()
                if let algorithm, !S3Checksums.algorithms.contains(algorithm) {
                    return error(400, "InvalidRequest", "Checksum algorithm provided is unsupported. Please try again with any of the valid types: \(S3Checksums.algorithms)")
                }
                let id = await state.createUpload(bucket: bucket, key: key, headers: objectHeaders(req), checksumAlgorithm: algorithm)
                return xml(
                    "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>\(bucket)</Bucket><Key>\(XMLTags.escape(key))</Key><UploadId>\(id)</UploadId></InitiateMultipartUploadResult>"
                )
            }
            guard let uploadId = query(req, "uploadId") else { return error(400, "InvalidRequest", "POST needs ?uploads or ?uploadId") }
            let text: String
            switch try await body(req) {
            case .success(let d): text = String(decoding: d, as: UTF8.self)
            case .failure(let r): return r
            }
            var checksums: [Int: String] = [:]
            let parts: [(Int, String)] = XMLTags.all("Part", in: text).compactMap { p in
                guard let n = XMLTags.first("PartNumber", in: p).flatMap(Int.init), let e = XMLTags.first("ETag", in: p) else { return nil }
                for a in S3Checksums.algorithms { if let v = XMLTags.first("Checksum" + a, in: p) { checksums[n] = v } }
                return (n, e)
            }
            await state.count("s3.complete")
            switch try await state.completeUpload(uploadId: uploadId, bucket: bucket, key: key, parts: parts, checksums: checksums) {
            case .noSuchUpload: return noSuchUpload
            case .error(let code, let message): return error(400, code, message)
            case .ok(let etag):
                // The object exists from here; a client cut off now must find it by HEAD, not send it again.
                await state.holdFinalReply()
                return xml(
                    "<CompleteMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Location>\(baseURL())/s3/\(bucket)/\(XMLTags.escape(key))</Location><Bucket>\(bucket)</Bucket><Key>\(XMLTags.escape(key))</Key><ETag>&quot;\(etag)&quot;</ETag></CompleteMultipartUploadResult>"
                )
            }
        }
        // AbortMultipartUpload (`?uploadId=…`) or DeleteObject.
        router.delete("/s3/:bucket/**") { req, ctx -> Response in
            let bucket = ctx.parameters.get("bucket") ?? ""
            let key = ctx.parameters.getCatchAll().joined(separator: "/").removingPercentEncoding ?? ""
            if let refusal = await authenticate(req, path: "/s3/\(bucket)/\(key)", payloadHash: nil, state: state) { return refusal }
            if let uploadId = query(req, "uploadId") {
                await state.count("s3.abort")
                return await state.abortUpload(uploadId: uploadId, bucket: bucket, key: key) ? Response(status: .noContent) : noSuchUpload
            }
            return Response(status: .noContent)
        }
        router.head("/s3/:bucket/**") { req, ctx -> Response in
            await state.count("s3.head")
            let bucket = ctx.parameters.get("bucket") ?? ""
            let key = ctx.parameters.getCatchAll().joined(separator: "/").removingPercentEncoding ?? ""
            // A HEAD's refusal has no body; its headers (a bucket's region, a 307's Location) stay.
            if let refusal = await authenticate(req, path: "/s3/\(bucket)/\(key)", payloadHash: nil, state: state) {
                return Response(status: refusal.status, headers: refusal.headers)
            }
            guard let o = await state.object(bucket: bucket, key: key), await state.postLife(platform: "s3", id: "\(bucket)/\(key)")?.takenDown != true
            else { return Response(status: .notFound) }
            var headers: HTTPFields = [.contentType: o.contentType, .eTag: "\"\(o.etag)\"", .contentLength: String(o.size)]
            for (k, v) in o.headers { if let name = HTTPField.Name(k) { headers[name] = v } }
            return Response(status: .ok, headers: headers)
        }
        // GetObject, or ListParts (`?uploadId=…`, `max-parts`, `part-number-marker`).
        router.get("/s3/:bucket/**") { req, ctx -> Response in
            let bucket = ctx.parameters.get("bucket") ?? ""
            let key = ctx.parameters.getCatchAll().joined(separator: "/").removingPercentEncoding ?? ""
            if let refusal = await authenticate(req, path: "/s3/\(bucket)/\(key)", payloadHash: nil, state: state) { return refusal }
            if let uploadId = query(req, "uploadId") {
                await state.count("s3.list_parts")
                guard let all = await state.uploadParts(uploadId: uploadId, bucket: bucket, key: key) else { return noSuchUpload }
                let marker = query(req, "part-number-marker").flatMap(Int.init) ?? 0
                let max = min(1000, query(req, "max-parts").flatMap(Int.init) ?? 1000)
                let after = all.filter { $0.number > marker }
                let page = Array(after.prefix(max))
                var out =
                    "<ListPartsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>\(bucket)</Bucket><Key>\(XMLTags.escape(key))</Key><UploadId>\(uploadId)</UploadId>"
                out += "<PartNumberMarker>\(marker)</PartNumberMarker><NextPartNumberMarker>\(page.last?.number ?? marker)</NextPartNumberMarker><MaxParts>\(max)</MaxParts>"
                out += "<IsTruncated>\(after.count > page.count)</IsTruncated><StorageClass>STANDARD</StorageClass>"
                let algorithm = await state.uploadChecksumAlgorithm(uploadId: uploadId)
                for p in page {
                    let sum = algorithm.flatMap { a in p.checksum.map { "<Checksum\(a)>\($0)</Checksum\(a)>" } } ?? ""
                    out +=
                        "<Part><PartNumber>\(p.number)</PartNumber><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>&quot;\(p.etag)&quot;</ETag>\(sum)<Size>\(p.size)</Size></Part>"
                }
                return xml(out + "</ListPartsResult>")
            }
            await state.count("s3.get")
            guard let o = await state.object(bucket: bucket, key: key), let data = FileManager.default.contents(atPath: o.path) else {
                return error(404, "NoSuchKey", "The specified key does not exist.")
            }
            var headers: HTTPFields = [.contentType: o.contentType, .eTag: "\"\(o.etag)\""]
            for (k, v) in o.headers { if let name = HTTPField.Name(k) { headers[name] = v } }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(data: data)))
        }
    }
}

/// `x-amz-date` / `X-Amz-Date`: `yyyyMMdd'T'HHmmss'Z'`.
enum SigV4Dates {
    static func parse(_ s: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return f.date(from: s)
    }
}

/// `Content-Encoding: aws-chunked`: `hex-size[;chunk-signature=…]\r\n data \r\n` … `0\r\n` then trailer
/// lines (`x-amz-checksum-crc32:…`) and a blank line.
enum AWSChunked {
    static func decode(_ body: Data) -> Data? {
        var out = Data()
        var i = body.startIndex
        let crlf = Data("\r\n".utf8)
        while i < body.endIndex {
            guard let lineEnd = body.range(of: crlf, in: i..<body.endIndex) else { return nil }
            let header = String(decoding: body[i..<lineEnd.lowerBound], as: UTF8.self)
            guard let size = Int(header.split(separator: ";").first ?? "", radix: 16) else { return nil }
            i = lineEnd.upperBound
            if size == 0 { return out }
            guard body.distance(from: i, to: body.endIndex) >= size + 2 else { return nil }
            out.append(body[i..<body.index(i, offsetBy: size)])
            i = body.index(i, offsetBy: size + 2)
        }
        return nil
    }
}
