import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import OmniPostCore
import OmniPostWire

/// A webhook receiver as a careful one is written (`POST /sandbox/webhook/<name>`): it checks the
/// `OmniPost-Signature` over the exact body (when a secret is registered for it) and refuses one older
/// than 5 minutes, takes the document as JSON or from a multipart body with the media, and keeps the
/// `Idempotency-Key`s it has seen so a repeat is answered as before and not taken twice.
/// `failChunks` answers the next requests with those statuses; `finalReplyDelayMs` holds a reply
/// after the delivery was taken (the window a sender must not double-post in).
enum WebhookRoutes: SandboxPlatform {
    static func add(to router: Router<BasicRequestContext>, state: SandboxState, baseURL: @escaping @Sendable () -> String) {
        router.post("/sandbox/webhook/:name") { req, ctx -> Response in
            await state.count("webhook.post")
            let name = ctx.parameters.get("name") ?? ""
            var req = req
            let body = Data(buffer: try await req.collectBody(upTo: 2 << 30))
            if let status = await state.takeChunkFault() {
                return SandboxHTTP.json(.init(code: status), ["error": "injected fault"], headers: status == 429 ? [.retryAfter: "7"] : [:])
            }
            var signed = false
            if let secret = await state.webhookSecret(name) {
                guard let sig = SandboxHTTP.header(req, WebhookSignature.header), WebhookSignature.verify(sig, body: body, secret: secret) else {
                    return SandboxHTTP.json(.unauthorized, ["error": "missing, wrong or stale OmniPost-Signature"])
                }
                signed = true
            }
            guard let key = SandboxHTTP.header(req, "Idempotency-Key"), !key.isEmpty else {
                return SandboxHTTP.json(.badRequest, ["error": "Idempotency-Key is required"])
            }
            let type = SandboxHTTP.header(req, "Content-Type") ?? ""
            var document = body
            var media: Data? = nil
            if type.lowercased().hasPrefix("multipart/form-data") {
                guard let fields = Multipart.formFields(body, contentType: type), let doc = fields["document"] else {
                    return SandboxHTTP.json(.badRequest, ["error": "a multipart delivery needs a `document` part"])
                }
                document = doc
                media = fields["media"]
            } else if !type.lowercased().hasPrefix("application/json") {
                return SandboxHTTP.json(.unsupportedMediaType, ["error": "expected application/json or multipart/form-data"])
            }
            guard (try? JSONSerialization.jsonObject(with: document)) is [String: Any] else {
                return SandboxHTTP.json(.badRequest, ["error": "the document is not a JSON object"])
            }
            let (id, duplicate) = try await state.receiveWebhook(name, key: key, document: document, media: media, signed: signed)
            await state.holdFinalReply()
            return SandboxHTTP.json(duplicate ? .ok : .created, ["id": id, "url": baseURL() + "/sandbox/webhook/\(name)/\(id)", "duplicate": duplicate])
        }
    }
}
