import Foundation
import OmniPostCore

/// Bluesky (AT Protocol) as a unit. An account signs in with its handle and an app password (made in
/// Settings → App passwords; never the account's own password): a session is made with
/// `createSession` and renewed with `refreshSession`. Videos go to the video service, which hands
/// back a blob for the post.
package enum BlueskyPlatform: PlatformModule {
    package static let descriptor: PlatformDescriptor = {
        var d = PlatformDescriptor(
            name: "bluesky", displayName: "Bluesky", apiRoot: "https://bsky.social", oauth: nil, sandboxTokenPath: "",
            accountFields: ["handle", "app_password", "endpoint (the account's PDS; default bsky.social)", "video_service (default video.bsky.app)"],
            capabilities: .init(
                upload: "whole file to the video service (`app.bsky.video.uploadVideo`, service auth); the job polled until its blob is ready",
                nativeScheduling: false, covers: "none",
                reconcile: "`getRecord` of the record key chosen before the post, then the account's recent posts, searched for the video's blob",
                quotas: "`getUploadLimits` read before each upload; 429 waits for `RateLimit-Reset`"),
            facts: PlatformFacts(
                platform: "bluesky", displayName: "Bluesky", privacy: [.public: "public"], privacyNote: "every post is public",
                options: [.init("alt")]))
        d.settings = ["handle", "app_password", "video_service"]
        // app.bsky.feed.getPosts: 25 URIs a call.
        d.readBack = .reads(batch: 25, cost: 0)
        return d.following([.firstComment])
    }()

    package static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        BlueskyAdapter(settings)
    }

    package static func validate(_ account: AccountConfig, sandboxed: Bool) throws {
        if !sandboxed {
            _ = try account.required("handle", "the account's handle, e.g. studio.bsky.social")
            _ = try account.required("app_password", "an app password from Settings → App passwords")
        }
        if let n = account.setting("handle") {
            let h = try n.string()
            if h.hasPrefix("@") || !(h.contains(".") || h.hasPrefix("did:")) { throw n.fail("'\(Excerpt.quote(h))' is not a handle (like studio.bsky.social, without @) or a DID") }
        }
        if let n = account.setting("app_password") {
            let p = try n.string()
            let parts = p.split(separator: "-")
            if parts.count != 4 || !parts.allSatisfy({ $0.count == 4 }) {
                throw n.fail("an app password looks like xxxx-xxxx-xxxx-xxxx; the account's own password must never be used here")
            }
        }
        try account.checkURL("video_service")
    }

    /// The app password proven: the session (stored, or made with the password) renewed now, and the
    /// account's DID it names.
    package static func whoAmI(_ settings: AdapterSettings) async throws -> AccountIdentity? {
        let a = settings.account
        let handle = (try? a.text("handle")) ?? ""
        let session = BlueskySession(
            pds: BlueskyAdapter.trim(a.endpoint), identifier: handle, password: (try? a.text("app_password")) ?? "",
            http: settings.uploads, timeout: settings.requestTimeout, store: settings.tokens.store, account: a.key)
        let first = try await session.current()
        try await session.renew(failed: first.token)
        return AccountIdentity(id: try await session.current().did, name: "@" + handle)
    }

    /// The sandbox's PDS and video service, with a made-up handle and app password (the sandbox is told them).
    package static func useSandbox(_ account: inout AccountConfig, base: String, root: URL) -> [SandboxGrant] {
        account.endpoint = base
        account.fillIn("handle", "\(account.name.lowercased().filter { $0.isLetter || $0.isNumber }).sandbox.test")
        account.fillIn("app_password", "sand-box0-pass-word")
        account.fillIn("video_service", base)
        return [.settings(["handle", "app_password"], of: account)]
    }
}
