import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore
import OmniPostWire

/// Reddit's media upload: a lease (`POST /api/media/asset.json` with `filepath`, `mimetype`) gives an
/// S3 form-POST policy for one key on the media host; the lease's fields, then the file, go to
/// `https:` + its `action` as multipart/form-data (streamed from disk), answered 201 with
/// `PostResponse` XML. The media's address is the action and the key, as Reddit's own clients form it.
/// An S3 POST is all or nothing: a cut upload is leased and sent again.
struct RedditMedia: Sendable {
    struct Uploaded: Sendable {
        var url: String
        var assetID: String
        var websocketURL: String?
    }

    let reddit: RedditAPI
    /// The client that follows no redirect (`AdapterSettings.uploads`): the form POST carries the file,
    /// which AsyncHTTPClient would drop on a 301/302/303 (following it as a GET). The lease asks for
    /// `success_action_status: 201`, so a 3xx is no success of S3's but one failure (`UploadRedirect`).
    let uploads: HTTPClient
    let timeout: Duration

    /// What is sent: the clip from its pinned descriptor (`RedditAdapter.pin`), or a file by its path
    /// (the poster, which the convert stage made or the drop names).
    enum Source: Sendable {
        case pinned(PinnedFile)
        case path(String)
    }

    func upload(_ source: Source, name: String, mimetype: String) async throws -> Uploaded {
        let lease = try await reddit.send("/api/media/asset.json", method: .POST, form: [("filepath", name), ("mimetype", mimetype)])
        guard lease.status == 200, let granted = lease.decoded(RedditWire.Lease.self) else {
            throw reddit.failure(lease, during: "leasing an upload for \(name)")
        }
        let action = granted.args.action, asset = granted.asset
        let pairs = granted.args.fields.map { ($0.name, $0.value ?? "") }
        guard let key = pairs.first(where: { $0.0 == "key" })?.1 else {
            throw DeliveryError(.retryNow, .platformError, "Reddit's upload lease for \(name) names no key")
        }
        let host = action.hasPrefix("//") ? "https:" + action : action
        let boundary = "omnipost-" + UUID().uuidString
        var head = Data()
        for (n, v) in pairs { head += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(n)\"\r\n\r\n\(v)\r\n".utf8) }
        head += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(name)\"\r\nContent-Type: \(mimetype)\r\n\r\n".utf8)
        let tail = Data("\r\n--\(boundary)--\r\n".utf8)
        let size: Int64
        let body: FileStream
        switch source {
        case .pinned(let file):
            size = file.size
            body = FileStream.body(head: head, pinned: file, tail: tail)
        case .path(let path):
            size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
            body = FileStream.body(head: head, file: path, tail: tail)
        }
        var req = HTTPClientRequest(url: host)
        req.method = .POST
        req.headers.add(name: "User-Agent", value: reddit.userAgent)
        req.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
        req.body = .stream(body, length: .known(Int64(head.count) + size + Int64(tail.count)))
        let status: Int
        let text: String
        let headers: HTTPHeaders
        do {
            let resp = try await uploads.execute(req, timeout: .seconds(Int64(timeout.seconds)))
            status = Int(resp.status.code)
            headers = resp.headers
            text = String(buffer: try await resp.body.collect(upTo: 1 << 20))
        } catch {
            throw DeliveryError(.retryNow, .networkError, "the upload of \(name) to Reddit's media host was cut: \(error)")
        }
        try UploadRedirect.refuse(status: status, headers: headers, url: host, what: "while sending \(name) to its media host (POST \(host))", platform: "Reddit's media host")
        guard (200..<300).contains(status) else { throw Self.hostFailure(status, text, name: name) }
        return Uploaded(url: host + "/" + key, assetID: asset.asset_id, websocketURL: asset.websocket_url.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// The media host answers as S3 does: `<Error><Code>…` (an oversized file also names its size and the most allowed).
    static func hostFailure(_ status: Int, _ text: String, name: String) -> DeliveryError {
        let code = XMLTags.first("Code", in: text) ?? "HTTP \(status)"
        let message = XMLTags.first("Message", in: text).map(XMLTags.unescape) ?? Excerpt.quote(String(text.prefix(200)))
        if code == "EntityTooLarge" {
            let size = XMLTags.first("ProposedSize", in: text) ?? "?", most = XMLTags.first("MaxSizeAllowed", in: text) ?? "?"
            return DeliveryError(.permanent, .fileTooLarge, "Reddit's media host refused \(name): \(size) bytes, at most \(most) allowed", httpStatus: status)
        }
        // A lapsed or refused policy, a dropped connection, the host's own trouble: a new lease, the file again.
        return DeliveryError(.retryNow, .platformError, "Reddit's media host answered \(status) \(code) for \(name): \(message)", httpStatus: status)
    }
}
