import Foundation
import OmniPostCore

/// Any tus 1.0 server as a target (tusd, many self-hosted video systems): the rendition uploaded with
/// the creation extension, resumed from the server's offset. A complete upload is the post.
package enum TusPlatform: PlatformModule {
    package static let descriptor = PlatformDescriptor.destination(
        "tus", "tus server",
        accountFields: ["url (the creation endpoint)", "headers", "upload_checksum"],
        settings: ["url", "headers", "upload_checksum"],
        upload: "tus 1.0: creation, `PATCH` from the server's offset (`HEAD` after any failure or 409), sha1 checksums where offered over plain HTTP (`upload_checksum` to choose)",
        reconcile: "`HEAD` of the upload: complete when its offset is its length",
        quotas: "none; 429/5xx back off")

    package static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        TusAdapter(settings)
    }

    package static func validate(_ account: AccountConfig, sandboxed: Bool) throws {
        try account.checkURL("url")
        if account.setting("url") == nil, !sandboxed {
            _ = try account.required("url", "the tus server's creation endpoint, e.g. https://tus.example.com/files/")
        }
        try account.checkHeaders("headers") { $0.hasPrefix("tus-") || $0.hasPrefix("upload-") ? "is the tus protocol's own" : nil }
        _ = try account.setting("upload_checksum")?.bool()
    }

    /// The sandbox's tus server unless a URL is written.
    package static func useSandbox(_ account: inout AccountConfig, base: String, root: URL) -> [SandboxGrant] {
        account.fillIn("url", base + "/tus/files/")
        return []
    }
}
