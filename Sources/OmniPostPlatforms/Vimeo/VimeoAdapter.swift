import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore

/// Publishes to Vimeo: the video is created with `upload.approach = tus` (name, description, privacy
/// from the sidecar), its URI and upload link are checkpointed before any byte, the bytes go by tus
/// from the offset Vimeo's tus server holds, then the tags. An interrupted delivery asks the video
/// itself: `upload.status: complete` is the post; otherwise the upload link's `HEAD` says where to go on.
struct VimeoAdapter: PlatformAdapter, SettingsBacked {
    let settings: AdapterSettings
    let platform = "vimeo"
    var schedulesNatively: Bool { false }

    init(_ settings: AdapterSettings) { self.settings = settings }

    /// The account's `access_token:`, else the one `accounts add` stored (Vimeo's do not expire).
    func token() async throws -> String {
        if let t = try? settings.account.text("access_token") { return t }
        return try await settings.tokens.accessToken()
    }
    var root: String { settings.account.endpoint.hasSuffix("/") ? String(settings.account.endpoint.dropLast()) : settings.account.endpoint }
    static let accept = "application/vnd.vimeo.*+json;version=3.4"

    struct Session: Codable {
        var uri: String
        var uploadLink: String
        var link: String
    }

    func preflight(_ metadata: PublishMetadata) -> OmniError? {
        if metadata.title.count > 128 { return OmniError(.textTooLong, "Vimeo titles are at most 128 characters; this one is \(metadata.title.count)") }
        return nil
    }

    /// Vimeo's privacy for ours: public → anybody, unlisted → unlisted, private → nobody (only the owner),
    /// followers/friends → contacts.
    static func privacy(_ p: Privacy) -> String {
        switch p {
        case .public: "anybody"
        case .unlisted: "unlisted"
        case .private: "nobody"
        case .followers, .friends: "contacts"
        }
    }

    func call(_ method: HTTPMethod, _ path: String, json: Any? = nil) async throws -> (HTTPClientResponse, [String: Any]?, String) {
        var r = HTTPClientRequest(url: root + path)
        r.method = method
        r.headers.add(name: "Authorization", value: "Bearer \(try await token())")
        r.headers.add(name: "Accept", value: Self.accept)
        r.headers.add(name: "User-Agent", value: "OmniPost/1")
        if let json {
            r.headers.add(name: "Content-Type", value: "application/json")
            r.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json)))
        }
        do {
            let resp = try await http.execute(r, timeout: .seconds(Int64(requestTimeout.seconds)))
            let body = String(buffer: try await resp.body.collect(upTo: 4 << 20))
            return (resp, (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any], body)
        } catch {
            throw DeliveryError(.retryNow, .networkError, "Vimeo could not be reached: \(error)")
        }
    }

    /// Vimeo's refusal, classified. Its `X-RateLimit-Reset` is a date, not a count of seconds.
    func failure(_ resp: HTTPClientResponse, _ json: [String: Any]?, _ what: String) -> DeliveryError {
        let status = Int(resp.status.code)
        let said = "\(what): Vimeo answered \(status)" + ((json?["developer_message"] as? String ?? json?["error"] as? String).map { " (\($0))" } ?? "")
        switch status {
        case 401: return DeliveryError(.reauthenticate, .authRevoked, said + "; the access token was revoked or lacks the upload scope: make a new one", httpStatus: status)
        case 429:
            let reset = resp.headers.first(name: "X-RateLimit-Reset").flatMap { ISO8601DateFormatter().date(from: $0) }
            return DeliveryError(.retryAt(reset ?? RetryAfter.date(resp.headers, default: 60)), .rateLimited, said, httpStatus: status)
        case 500...: return DeliveryError(.retryNow, .platformError, said, httpStatus: status)
        default: return DeliveryError(.permanent, .platformError, said, httpStatus: status)
        }
    }

    func session(_ job: UploadJob) throws -> Session? {
        guard let s = job.session else { return nil }
        guard let v = try? JSONDecoder().decode(Session.self, from: Data(s.utf8)) else {
            throw DeliveryError(.permanent, .internalError, "the checkpointed Vimeo session cannot be read")
        }
        return v
    }

    func outcome(_ s: Session, bytes: Int64) -> PublishOutcome {
        PublishOutcome(remoteId: s.uri.split(separator: "/").last.map(String.init) ?? s.uri, url: s.link, bytesSent: bytes)
    }

    func reconcile(_ job: UploadJob) async throws -> RemoteState {
        guard let s = try session(job) else { return .notStarted }
        let (resp, json, _) = try await call(.GET, s.uri + "?fields=uri,link,upload.status")
        if resp.status == .notFound { return .notStarted }   // the video was deleted
        guard resp.status == .ok else { throw failure(resp, json, "reading \(s.uri)") }
        if (json?["upload"] as? [String: Any])?["status"] as? String == "complete" { return .published(outcome(s, bytes: 0)) }
        guard let held = try await TusClient(http: http, timeout: requestTimeout).offset(s.uploadLink) else { return .notStarted }
        return .partial(confirmedOffset: held.offset)
    }

    func publish(_ job: UploadJob, checkpoint: @escaping @Sendable (UploadCheckpoint) async throws -> Void,
                 progress: @escaping @Sendable (Int64, Int64) -> Void) async throws -> PublishOutcome {
        var s: Session
        var start = job.confirmedOffset
        if let old = try session(job) {
            s = old
        } else {
            try await job.beforeRequest("init")
            var body: [String: Any] = ["upload": ["approach": "tus", "size": job.size], "privacy": ["view": Self.privacy(job.metadata.privacy)]]
            if !job.metadata.title.isEmpty { body["name"] = job.metadata.title }
            if !job.metadata.description.isEmpty { body["description"] = job.metadata.description }
            let (resp, json, _) = try await call(.POST, "/me/videos?fields=uri,link,upload", json: body)
            guard resp.status == .ok || resp.status == .created, let uri = json?["uri"] as? String,
                  let link = (json?["upload"] as? [String: Any])?["upload_link"] as? String else {
                throw failure(resp, json, "creating the video")
            }
            s = Session(uri: uri, uploadLink: link, link: json?["link"] as? String ?? "https://vimeo.com" + uri.replacingOccurrences(of: "/videos", with: ""))
            start = 0
        }
        let text = String(decoding: try JSONEncoder().encode(s), as: UTF8.self)
        try await checkpoint(UploadCheckpoint(session: text, confirmedOffset: start, bytesSent: 0))
        // Vimeo's upload links authorize themselves: the bytes go without the API token.
        let tus = TusClient(http: http, timeout: requestTimeout)
        let sent = try await tusSend(tus, url: s.uploadLink, job: job, session: text, from: start, checksum: nil, checkpoint: checkpoint, progress: progress)
        if !job.metadata.tags.isEmpty {
            // Tags are a courtesy: a refusal is noted by Vimeo's answer, never a failed post.
            _ = try? await call(.PUT, s.uri + "/tags", json: job.metadata.tags.prefix(20).map { ["name": $0] })
        }
        return outcome(s, bytes: sent)
    }
}
