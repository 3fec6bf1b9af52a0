import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import OmniPostCore
import OmniPostPlatforms
import OmniPostWire

// The upload rows' baseline (issue 30): curl sending the same bytes in the same number of requests to the
// same sandbox endpoints as the adapter, so a protocol's chunking and the sandbox's own per-part work are
// on both sides and only our overhead shows. The session is opened here (a few small requests, untimed);
// curl then sends every part on one connection, one request after the other, timed as a whole.

/// One part request for curl: the method, URL, headers and the slice file that is its body (or, for a
/// multipart form, its fields).
struct CurlPart {
    var method: String
    var url: String
    var headers: [String]
    var slice: String
    var form: [String]? = nil
}

/// The child: `omnipost-bench curl <platform> <sandbox base> <slices dir> <size> <part size>` — opens a
/// session on the platform's endpoints and prints curl's seconds for its parts, or `unsupported` where
/// only the sink is measured.
func curlChild(_ a: [String]) async throws {
    let (platform, base, slices, size, partSize) = (a[0], a[1], a[2], Int64(a[3]) ?? 0, Int64(a[4]) ?? 0)
    guard let account = benchAccount(platform, base: base)?.0, let c = uploadCases.first(where: { $0.platform == platform }) else { exit(2) }
    let http = try benchHTTPClient()
    let tokens = TokenProvider(account: account, http: http, store: MemoryTokens())
    let uploads = try benchUploadsClient()
    let settings = AdapterSettings(account: account, tokens: tokens, http: http, uploads: uploads, chunkSize: partSize)
    let job = UploadJob(deliveryId: 1, filePath: slices, size: size, metadata: c.meta, session: nil, confirmedOffset: 0)
    let api = AuthorizedHTTP(http: http, tokens: tokens, timeout: .seconds(60))
    let names = try FileManager.default.contentsOfDirectory(atPath: slices).sorted().map { slices + "/" + $0 }
    func json(_ url: String, _ body: String, _ headers: [(String, String)] = []) async throws -> AuthorizedHTTP.Reply {
        let r = try await api.send(url: url, method: .POST, headers: [("Content-Type", "application/json")] + headers, body: ByteBuffer(string: body))
        guard (200..<300).contains(r.status) else { throw OmniError(.internalError, "\(url) answered \(r.status): \(String(decoding: r.body, as: UTF8.self))") }
        return r
    }
    func object(_ r: AuthorizedHTTP.Reply) -> [String: Any] { (try? JSONSerialization.jsonObject(with: r.body)) as? [String: Any] ?? [:] }
    func range(_ i: Int) -> (Int64, Int64) {
        let first = Int64(i) * partSize
        return (first, i == names.count - 1 ? size - 1 : first + partSize - 1)
    }
    // Vimeo, tus and S3 take no OAuth token of ours (a static token, none, SigV4).
    let token = ["vimeo", "tus", "s3"].contains(platform) ? "" : try await tokens.accessToken()
    var parts: [CurlPart] = []
    switch platform {
    case "youtube":
        let r = try await json(
            base + "/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status",
            #"{"snippet":{"title":"bench","categoryId":"22"},"status":{"privacyStatus":"private","selfDeclaredMadeForKids":false}}"#,
            [("X-Upload-Content-Length", String(size)), ("X-Upload-Content-Type", "video/mp4")])
        guard let location = r.headers.first(name: "Location") else { throw OmniError(.internalError, "no Location") }
        parts = names.indices.map { i in
            let (f, l) = range(i)
            return CurlPart(
                method: "PUT", url: location, headers: ["Authorization: Bearer \(token)", "Content-Type: video/mp4", "Content-Range: bytes \(f)-\(l)/\(size)"],
                slice: names[i])
        }
    case "tiktok":
        // The session as the adapter opens it (creator_info, then a Direct Post's init): the sandbox does
        // a post's work (the whole file's sha256) before it answers a Direct Post's last chunk, and none
        // for an inbox upload, which this baseline used to open — so curl's last chunk was answered a
        // second sooner than the adapter's, for the sandbox's sake, not curl's.
        let a = TikTokAdapter(settings)
        let s = try await a.start(job, try await a.prepare(job))
        parts = names.indices.map { i in
            let (f, l) = range(i)
            return CurlPart(method: "PUT", url: s.uploadURL, headers: ["Content-Type: video/mp4", "Content-Range: bytes \(f)-\(l)/\(size)"], slice: names[i])
        }
    case "x":
        let r = try await json(base + "/2/media/upload/initialize", #"{"media_type":"video/mp4","total_bytes":\#(size),"media_category":"tweet_video"}"#)
        guard let d = object(r)["data"] as? [String: Any], let id = d["id"] as? String else { throw OmniError(.internalError, "no media id") }
        parts = names.indices.map { i in
            CurlPart(
                method: "POST", url: base + "/2/media/upload/\(id)/append", headers: ["Authorization: Bearer \(token)"], slice: names[i],
                form: ["segment_index=\(i)", "media=@\(names[i]);type=application/octet-stream;filename=segment-\(i)"])
        }
    case "linkedin":
        let li = [("LinkedIn-Version", LinkedInAdapter.apiVersion()), ("X-Restli-Protocol-Version", "2.0.0")]
        let me = try await api.send(url: base + "/v2/userinfo", method: .GET, headers: [], body: ByteBuffer())
        guard let sub = object(me)["sub"] as? String else { throw OmniError(.internalError, "no member id") }
        let r = try await json(
            base + "/rest/videos?action=initializeUpload",
            #"{"initializeUploadRequest":{"owner":"urn:li:person:\#(sub)","fileSizeBytes":\#(size),"uploadCaptions":false,"uploadThumbnail":false}}"#, li)
        let instructions = (object(r)["value"] as? [String: Any])?["uploadInstructions"] as? [[String: Any]] ?? []
        guard instructions.count == names.count else { throw OmniError(.internalError, "\(instructions.count) instructions for \(names.count) slices") }
        parts = names.indices.map { i in
            CurlPart(method: "PUT", url: instructions[i]["uploadUrl"] as? String ?? "", headers: ["Content-Type: application/octet-stream"], slice: names[i])
        }
    case "instagram", "facebook":
        // The session as the adapter opens it (a REELS container; a Page's video), then Meta's rupload
        // host: a POST per part with its offset.
        let path: String, bearer: String
        if platform == "instagram" {
            let a = InstagramAdapter(settings)
            let s = try await a.start(job, try await a.prepare(job))
            (path, bearer) = (s.ruploadPath, token)
        } else {
            let a = FacebookAdapter(settings)
            let s = try await a.start(job, try await a.prepare(job))
            (path, bearer) = (s.ruploadPath, s.ruploadToken ?? token)
        }
        parts = names.indices.map { i in
            CurlPart(
                method: "POST", url: base + path,
                headers: ["Authorization: OAuth \(bearer)", "offset: \(range(i).0)", "file_size: \(size)", "Content-Type: application/octet-stream"],
                slice: names[i])
        }
    case "vimeo", "tus":
        // A tus upload (Vimeo's upload link is one): PATCH from each offset, with the sha1 checksum the
        // adapter sends where the server offers it over plain HTTP (the tus server does; over HTTPS the
        // adapter sends none, `TusClient.Capabilities.checksum(for:)`; Vimeo's links are not asked).
        var location: String
        if platform == "vimeo" {
            var r = HTTPClientRequest(url: base + "/me/videos?fields=uri,link,upload")
            r.method = .POST
            r.headers.add(name: "Authorization", value: "Bearer " + ((try? account.text("access_token")) ?? ""))
            r.headers.add(name: "Accept", value: "application/vnd.vimeo.*+json;version=3.4")
            r.headers.add(name: "Content-Type", value: "application/json")
            r.body = .bytes(ByteBuffer(string: #"{"upload":{"approach":"tus","size":\#(size)},"privacy":{"view":"nobody"},"name":"bench"}"#))
            let resp = try await http.execute(r, timeout: .seconds(60))
            let body = try await resp.body.collect(upTo: 1 << 20)
            let v = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any]
            guard let link = (v?["upload"] as? [String: Any])?["upload_link"] as? String else { throw OmniError(.internalError, "no upload_link") }
            location = link
        } else {
            var r = HTTPClientRequest(url: (try? account.text("url")) ?? "")
            r.method = .POST
            r.headers.add(name: "Tus-Resumable", value: "1.0.0")
            r.headers.add(name: "Upload-Length", value: String(size))
            let resp = try await http.execute(r, timeout: .seconds(60))
            guard let l = resp.headers.first(name: "Location") else { throw OmniError(.internalError, "no Location") }
            location = URL(string: l, relativeTo: URL(string: r.url))?.absoluteString ?? l
        }
        parts = try names.indices.map { i in
            var h = ["Tus-Resumable: 1.0.0", "Upload-Offset: \(range(i).0)", "Content-Type: application/offset+octet-stream"]
            if platform == "tus", !location.lowercased().hasPrefix("https:") {
                let d = try Data(contentsOf: URL(fileURLWithPath: names[i]))
                h.append("Upload-Checksum: sha1 " + Data(Insecure.SHA1.hash(data: d)).base64EncodedString())
            }
            return CurlPart(method: "PATCH", url: location, headers: h, slice: names[i])
        }
    case "s3":
        // A multipart upload; each UploadPart SigV4-signed over its part's sha256 over plain HTTP, or over
        // HTTPS unsigned with its CRC-32C in a signed checksum header, the upload created with that
        // algorithm — as the adapter sends them (`S3Bucket.signsPayload`); the digests worked out here, untimed.
        var config = MediaHostConfig.S3(
            endpoint: account.endpoint, bucket: (try? account.text("bucket")) ?? "", region: (try? account.text("region")) ?? "us-east-1",
            accessKeyID: (try? account.text("access_key_id")) ?? "", secretAccessKey: (try? account.text("secret_access_key")) ?? "", prefix: "")
        config.pathStyle = true
        let bucket = S3Bucket(config, http: uploads)
        let key = "bench-curl.bin"
        let signs = bucket.signsPayload
        let id = try await bucket.createMultipartUpload(
            key, headers: ["Content-Type": "video/mp4"].merging(signs ? [:] : ["x-amz-checksum-algorithm": S3Bucket.partChecksum]) { a, _ in a })
        parts = try names.indices.map { i in
            let d = try Data(contentsOf: URL(fileURLWithPath: names[i]))
            let req = bucket.signed(
                .PUT, key: key, query: [("partNumber", String(i + 1)), ("uploadId", id)],
                headers: signs ? [:] : ["x-amz-checksum-crc32c": CRC32C.base64(CRC32C.checksum(d))], body: .bytes(ByteBuffer()),
                length: Int64(d.count), sha256: signs ? FileHashing.sha256(data: d) : SigV4.unsignedPayload)
            let headers = req.headers.filter { !["content-length", "host"].contains($0.name.lowercased()) }.map { "\($0.name): \($0.value)" }
            return CurlPart(method: "PUT", url: req.url, headers: headers, slice: names[i])
        }
    default:
        print("unsupported")
        return
    }
    // curl's seconds and its CPU seconds.
    let run = try runCurl(parts, config: slices + ".cfg")
    print(String(format: "%.3f %.3f", run.seconds, run.cpuSeconds))
}

/// Every part in one curl run (`--next` between them keeps the connection), timed as a whole: its wall and
/// CPU seconds.
func runCurl(_ parts: [CurlPart], config: String) throws -> (seconds: Double, cpuSeconds: Double) {
    func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
    var text = ""
    for (i, p) in parts.enumerated() {
        if i > 0 { text += "next\n" }
        // No `Expect: 100-continue`: curl would wait up to a second for a 100 the sandbox does not send,
        // before every body over 1 MiB (the adapter, through AsyncHTTPClient, does not ask for one).
        text += "url = \(quoted(p.url))\nrequest = \(p.method)\noutput = \"/dev/null\"\nsilent\nshow-error\nfail\nheader = \"Expect:\"\n"
        for h in p.headers { text += "header = \(quoted(h))\n" }
        // Over HTTPS (BenchTLS.swift) curl trusts the sandbox's CA, as our client does (each `next` resets it).
        if let ca = ProcessInfo.processInfo.environment[benchCAVariable] { text += "cacert = \(quoted(ca))\n" }
        if let form = p.form { for f in form { text += "form = \(quoted(f))\n" } } else { text += "upload-file = \(quoted(p.slice))\n" }
    }
    try Data(text.utf8).write(to: URL(fileURLWithPath: config))
    let run = try runMeasured("/usr/bin/env", ["curl", "-K", config])
    return (run.seconds, run.cpuSeconds)
}
