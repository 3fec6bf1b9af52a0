import Foundation
import OmniPostCore

extension SandboxState {
    /// One request a webhook receiver got, duplicates included (what a test counts).
    package struct WebhookReceipt: Sendable, Codable, Equatable {
        package var receiver: String
        package var key: String
        package var signed: Bool
        package var duplicate: Bool
        package var document: String
        package var mediaSha256: String?
    }

    /// The secret a receiver checks signatures with (what its owner configured).
    package func registerWebhook(_ name: String, secret: String) { webhookSecrets[name] = secret }
    func webhookSecret(_ name: String) -> String? { webhookSecrets[name] }

    /// Records a delivery as a well-behaved receiver does: a key seen before is answered as before and
    /// not counted again. Returns the id it was given.
    func receiveWebhook(_ name: String, key: String, document: Data, media: Data?, signed: Bool) throws -> (id: String, duplicate: Bool) {
        let docText = String(decoding: document, as: UTF8.self)
        if let id = webhookKeys["\(name)|\(key)"] {
            webhookReceipts.append(
                WebhookReceipt(receiver: name, key: key, signed: signed, duplicate: true, document: docText, mediaSha256: media.map { FileHashing.sha256(data: $0) }))
            return (id, true)
        }
        let id = "wh-" + SandboxState.randomID(12)
        webhookKeys["\(name)|\(key)"] = id
        let doc = (try? JSONSerialization.jsonObject(with: document)) as? [String: Any] ?? [:]
        var sha = doc["sha256"] as? String ?? FileHashing.sha256(data: document)
        var path = ""
        var bytes = Int64(document.count)
        if let media {
            sha = FileHashing.sha256(data: media)
            let dir = root.appendingPathComponent("webhook/\(name)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let file = dir.appendingPathComponent(id)
            try media.write(to: file)
            path = file.path
            bytes = Int64(media.count)
        }
        let meta = doc["metadata"] as? [String: Any] ?? [:]
        videos.append(
            Video(
                platform: "webhook", id: id, account: "webhook:\(name)", title: meta["title"] as? String ?? "", description: meta["description"] as? String ?? "",
                tags: meta["tags"] as? [String] ?? [], privacy: meta["privacy"] as? String ?? "", publishAt: meta["publish_at"] as? String,
                bytes: bytes, sha256: sha, path: path, receivedAt: Date()))
        webhookReceipts.append(
            WebhookReceipt(receiver: name, key: key, signed: signed, duplicate: false, document: docText, mediaSha256: media.map { FileHashing.sha256(data: $0) }))
        return (id, false)
    }

    package func allWebhookReceipts() -> [WebhookReceipt] { webhookReceipts }
}

/// What Webhook's sandbox remembers, held for it by `SandboxState` (see `PlatformWorld`).
extension SandboxState {
    struct WebhookWorld: PlatformWorld {
        var secrets: [String: String] = [:]
        /// Idempotency keys a receiver has seen, with the id it answered.
        var keys: [String: String] = [:]
        var receipts: [WebhookReceipt] = []
    }

    var webhookSecrets: [String: String] {
        get { self[WebhookWorld.self].secrets }
        _modify { yield &self[WebhookWorld.self].secrets }
    }
    var webhookKeys: [String: String] {
        get { self[WebhookWorld.self].keys }
        _modify { yield &self[WebhookWorld.self].keys }
    }
    var webhookReceipts: [WebhookReceipt] {
        get { self[WebhookWorld.self].receipts }
        _modify { yield &self[WebhookWorld.self].receipts }
    }
}

extension WebhookRoutes {
    static let name = "webhook"
    /// The secret the receiver named after the account checks signatures with.
    static func grant(_ credentials: [String: String], account: String, state: isolated SandboxState) {
        guard let secret = credentials["secret"] else { return }
        state.registerWebhook(String(account.split(separator: ":", maxSplits: 1).last ?? ""), secret: secret)
    }
}
