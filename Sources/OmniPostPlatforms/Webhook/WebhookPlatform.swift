import Foundation
import OmniPostCore

/// A URL as a target: the delivery document POSTed (and, optionally, the rendition with it), signed
/// with HMAC-SHA256. A 2xx is the post.
package enum WebhookPlatform: PlatformModule {
    package static let descriptor = PlatformDescriptor.destination(
        "webhook", "Webhook",
        accountFields: ["url", "secret (HMAC-SHA256 key)", "include_media", "headers"],
        settings: ["url", "secret", "include_media", "headers"],
        upload:
            "POST of the delivery document (JSON), or multipart with the rendition (opened once without following a link, checked against its sha256, signed and sent from that descriptor); signed `OmniPost-Signature: t=…,v1=…`",
        reconcile: "none possible: sent again with the same `Idempotency-Key` for the receiver to drop",
        quotas: "none; 429/5xx back off (Retry-After when given)",
        readBack: .notApplicable("the receiver's 2xx is its acknowledgement, and a webhook has no read endpoint to ask what it kept"))

    package static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        WebhookAdapter(settings)
    }

    package static func validate(_ account: AccountConfig, sandboxed: Bool) throws {
        try account.checkURL("url")
        if account.setting("url") == nil, !sandboxed { _ = try account.required("url", "where deliveries are POSTed") }
        if let n = account.setting("secret"), try n.string().count < 16 {
            throw n.fail("a webhook secret should be at least 16 characters (it is an HMAC key)")
        }
        _ = try account.setting("include_media")?.bool()
        try account.checkHeaders("headers") {
            ["content-type", "content-length", "host", "omnipost-signature", "idempotency-key"].contains($0) ? "is set by OmniPost itself" : nil
        }
    }

    /// The sandbox's receiver (`/sandbox/webhook/<account>`) unless a URL is written; it checks signatures.
    /// A URL written in the file is left alone, secret and all: a made-up secret would sign a real
    /// receiver's deliveries with a key it does not know.
    package static func useSandbox(_ account: inout AccountConfig, base: String, root: URL) -> [SandboxGrant] {
        guard account.setting("url") == nil else { return [] }
        account.fillIn("url", base + "/sandbox/webhook/" + account.name)
        account.fillIn("secret", "sandbox-webhook-secret-\(account.name)")
        return [.settings(["secret"], of: account)]
    }
}
