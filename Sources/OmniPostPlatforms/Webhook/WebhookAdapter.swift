import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import OmniPostCore
import OmniPostWire

/// POSTs a delivery to a URL: the delivery document as JSON, or — with `include_media` — a
/// `multipart/form-data` body of the document (`document`) and the rendition (`media`), streamed from
/// disk. Signed over the exact bytes sent (docs/destinations.md). A webhook cannot be asked what it
/// received, so every send of one delivery carries the same `Idempotency-Key`: a receiver that keeps
/// the keys it has seen drops a repeat, and the delivery is then exactly once end to end. On the upload
/// engine (`ResumableAdapter`): the key is the session, and the POST is the post.
struct WebhookAdapter: ResumableAdapter, DescribedAdapter {
    typealias Module = WebhookPlatform
    let settings: AdapterSettings
    let displayName = "the webhook"
    var transport: NothingToSend<SessionText> { NothingToSend() }

    init(_ settings: AdapterSettings) { self.settings = settings }

    var url: String { (try? account.text("url")) ?? "" }

    static func key(_ job: UploadJob) -> String { "\(job.drop?.dropId ?? "delivery")-\(job.deliveryId)" }

    /// Nothing to ask: the delivery is sent again under the same key.
    func reconcile(_ s: SessionText, _ job: UploadJob) async throws -> RemoteState { .notStarted }

    /// The idempotency key, checkpointed before the first send.
    func start(_ job: UploadJob, _ prepared: Void) async throws -> SessionText { SessionText(Self.key(job)) }

    /// Sent again under the same key after a transient failure: a repeat the receiver can drop, so the
    /// engine may repeat it within the attempt (`PartRetry`).
    func post(_ s: SessionText, _ job: UploadJob, uploaded: Uploaded) async throws -> PublishOutcome {
        var retry = PartRetry(settings)
        return try await retry.idempotent { try await send(job) }
    }

    func send(_ job: UploadJob) async throws -> PublishOutcome {
        let document = DeliveryDocument.json(job)
        let media = (try? account.setting("include_media")?.bool()) ?? false
        let timestamp = Int(Date().timeIntervalSince1970)
        var req = HTTPClientRequest(url: url)
        req.method = .POST
        req.headers.add(name: "User-Agent", value: "OmniPost/1 (webhook)")
        req.headers.add(name: "Idempotency-Key", value: Self.key(job))
        req.headers.add(name: "OmniPost-Delivery", value: Self.key(job))
        req.headers.add(name: "OmniPost-Event", value: "delivery")
        for (k, v) in account.headerPairs("headers") { req.headers.add(name: k, value: v) }
        let secret = try account.text("secret")
        var length = Int64(document.count)
        if media {
            let boundary = "omnipost-" + UUID().uuidString
            let head =
                Data(("--\(boundary)\r\nContent-Disposition: form-data; name=\"document\"\r\nContent-Type: application/json\r\n\r\n").utf8) + document
                + Data(
                    ("\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"media\"; filename=\"\(Self.quoted((job.filePath as NSString).lastPathComponent))\"\r\nContent-Type: \(job.contentType)\r\n\r\n")
                        .utf8)
            let tail = Data("\r\n--\(boundary)--\r\n".utf8)
            length = Int64(head.count) + job.size + Int64(tail.count)
            // Opened once without following a link and checked against the recorded sha256; signed and sent
            // from that descriptor, never by the name again.
            let pinned: PinnedFile
            do { pinned = try PinnedFile(path: job.filePath, size: job.size, expected: job.changeCheck) } catch let e as OmniError {
                throw DeliveryError(.permanent, e.code, e.message)
            }
            if let secret {
                var mac = WebhookSignature.start(secret: secret, timestamp: timestamp)
                mac.update(data: head)
                // The file signed block by block from the pinned descriptor (`FileBlocks`), all of it or nothing.
                let name = (pinned.path as NSString).lastPathComponent
                let signed: Int64
                do {
                    signed = try FileBlocks.forEach(pinned.fd, length: pinned.size, failed: FileBlocks.unreadable(name)) { mac.update(data: $0) }
                } catch let e as OmniError {
                    throw DeliveryError(.permanent, e.code, e.message)
                }
                guard signed == pinned.size else { throw DeliveryError(.permanent, .sourceChanged, "\(name) ended before its \(pinned.size) bytes; nothing was sent") }
                mac.update(data: tail)
                req.headers.add(name: WebhookSignature.header, value: WebhookSignature.value(timestamp: timestamp, mac: mac))
            }
            req.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
            req.body = .stream(FileStream.body(head: head, pinned: pinned, tail: tail), length: .known(length))
        } else {
            if let secret { req.headers.add(name: WebhookSignature.header, value: WebhookSignature.sign(document, secret: secret, timestamp: timestamp)) }
            req.headers.add(name: "Content-Type", value: "application/json")
            req.body = .bytes(ByteBuffer(data: document))
        }
        let resp: HTTPClientResponse
        let body: ByteBuffer
        do {
            // On the client that follows redirects, unlike every other upload's bytes (`UploadRedirect`):
            // a receiver may answer a POST `303 See Other` to where its result is read (RFC 9110 §15.4.4),
            // its normal reply, and the webhook's URL is the user's own, not an address a platform named.
            resp = try await settings.http.execute(req, timeout: .seconds(Int64(settings.requestTimeout.seconds)))
            body = try await resp.body.collect(upTo: 1 << 20)
        } catch {
            throw DeliveryError(.retryNow, .networkError, "\(url) could not be reached: \(error)")
        }
        let status = Int(resp.status.code)
        let text = String(buffer: body)
        let excerpt = text.isEmpty ? "" : ": " + Excerpt.quote(String(text.prefix(300)))
        switch status {
        case 200..<300:
            let answer = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
            let id = answer?["id"].map { "\($0)" } ?? Self.key(job)
            let link = answer?["url"] as? String ?? resp.headers.first(name: "Location") ?? ""
            return PublishOutcome(remoteId: id, url: link, bytesSent: media ? length : Int64(document.count))
        case 408, 425, 429, 500...:
            if resp.headers.first(name: "Retry-After") != nil {
                throw DeliveryError(.retryAt(RetryAfter.date(resp.headers, default: 30)), .rateLimited, "\(url) answered \(status)\(excerpt)", httpStatus: status)
            }
            throw DeliveryError(.retryNow, .platformError, "\(url) answered \(status)\(excerpt)", httpStatus: status)
        default:
            throw DeliveryError(.permanent, .platformError, "\(url) refused the delivery with \(status)\(excerpt)", httpStatus: status)
        }
    }

    static func quoted(_ name: String) -> String {
        name.replacingOccurrences(of: "\"", with: "%22").replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: "")
    }
}
