import AsyncHTTPClient
import Foundation
import NIOCore
import OmniPostCore
import OmniPostPlatforms

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
    guard let module = PlatformRegistry.module(platform) else { exit(2) }
    let account = AccountConfig(
        key: "\(platform):main", platform: platform, clientID: "bench", clientSecret: "bench", refreshToken: "rt-\(platform)",
        endpoint: base, tokenURL: base + module.descriptor.sandboxTokenPath)
    let tokens = TokenProvider(account: account, http: HTTPClient.shared, store: MemoryTokens())
    let api = AuthorizedHTTP(http: HTTPClient.shared, tokens: tokens, timeout: .seconds(60))
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
    let token = try await tokens.accessToken()
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
        let r = try await json(
            base + "/v2/post/publish/inbox/video/init/",
            #"{"source_info":{"source":"FILE_UPLOAD","video_size":\#(size),"chunk_size":\#(partSize),"total_chunk_count":\#(names.count)}}"#)
        guard let url = (object(r)["data"] as? [String: Any])?["upload_url"] as? String else { throw OmniError(.internalError, "no upload_url") }
        parts = names.indices.map { i in
            let (f, l) = range(i)
            return CurlPart(method: "PUT", url: url, headers: ["Content-Type: video/mp4", "Content-Range: bytes \(f)-\(l)/\(size)"], slice: names[i])
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
    default:
        print("unsupported")
        return
    }
    print(String(format: "%.3f", try runCurl(parts, config: slices + ".cfg")))
}

/// Every part in one curl run (`--next` between them keeps the connection), timed as a whole.
func runCurl(_ parts: [CurlPart], config: String) throws -> Double {
    func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
    var text = ""
    for (i, p) in parts.enumerated() {
        if i > 0 { text += "next\n" }
        // No `Expect: 100-continue`: curl would wait up to a second for a 100 the sandbox does not send,
        // before every body over 1 MiB (the adapter, through AsyncHTTPClient, does not ask for one).
        text += "url = \(quoted(p.url))\nrequest = \(p.method)\noutput = \"/dev/null\"\nsilent\nshow-error\nfail\nheader = \"Expect:\"\n"
        for h in p.headers { text += "header = \(quoted(h))\n" }
        if let form = p.form { for f in form { text += "form = \(quoted(f))\n" } } else { text += "upload-file = \(quoted(p.slice))\n" }
    }
    try Data(text.utf8).write(to: URL(fileURLWithPath: config))
    let run = try runMeasured("/usr/bin/env", ["curl", "-K", config])
    return run.seconds
}
