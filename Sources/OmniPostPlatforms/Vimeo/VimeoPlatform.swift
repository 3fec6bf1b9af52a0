import Foundation
import OmniPostCore

/// Vimeo as a unit. Its access tokens do not expire (a personal access token from the developer site,
/// or one an OAuth grant gave): the account holds one, and a 401 means it was revoked — a person must
/// make a new one. Uploads are tus, to the `upload_link` the video's creation answers.
package enum VimeoPlatform: PlatformModule {
    package static let descriptor: PlatformDescriptor = {
        // Vimeo's tokens do not expire: a connected account keeps the one its grant gave.
        var o = PlatformDescriptor.OAuth(
            authorizeURL: "https://api.vimeo.com/oauth/authorize", tokenURL: "https://api.vimeo.com/oauth/access_token",
            scopes: ["public", "private", "upload", "edit"], clientAuthentication: .basic, refreshStyle: .lasting)
        o.scopeSeparator = " "
        var d = PlatformDescriptor(
            name: "vimeo", displayName: "Vimeo", apiRoot: "https://api.vimeo.com", oauth: o, sandboxTokenPath: "/vimeo/oauth/access_token",
            accountFields: ["access_token (with the upload scope; Vimeo's do not expire), or client_id and client_secret to connect with `accounts add`"],
            capabilities: .init(
                upload:
                    "`POST /me/videos` (approach tus), then tus `PATCH` to its `upload_link` from the server's offset; published once `transcode.status` is complete and the tags are on it",
                nativeScheduling: false, covers: "image (a custom thumbnail: `POST /videos/{id}/pictures`, the image `PUT` to its link, `PATCH` active)",
                reconcile:
                    "the video's `upload.status`, then its `transcode.status` and tags; else `HEAD` of the upload link; a create whose answer was lost is found among the account's videos (`GET /me/videos`)",
                quotas: "none bundled (Vimeo's are weekly bytes per plan); 429 waits for `X-RateLimit-Reset`"),
            facts: PlatformFacts(
                platform: "vimeo", displayName: "Vimeo",
                privacy: [.public: "anybody", .unlisted: "unlisted", .private: "nobody", .followers: "contacts", .friends: "contacts"]))
        d.settings = ["access_token"]
        // Transcoding is read every 2 s, growing to 30 s, at most 30 a minute (Vimeo meters calls per minute).
        d.statusPolling = PollPolicy(first: .seconds(2), max: .seconds(30), factor: 1.5, perMinute: 30)
        d.followUps = [.subtitles]
        return d
    }()

    package static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter {
        VimeoAdapter(settings)
    }

    package static func whoAmI(_ settings: AdapterSettings) async throws -> AccountIdentity? {
        let a = VimeoAdapter(settings)
        let (resp, body) = try await a.call(.GET, "/me")
        guard resp.status == .ok, let me = try? JSONDecoder().decode(VimeoWire.Video.self, from: body), let uri = me.uri else {
            throw DeliveryError(
                resp.status == .unauthorized ? .reauthenticate : .retryNow, .authRevoked, "Vimeo answered \(resp.status.code) when asked who the token is",
                httpStatus: Int(resp.status.code))
        }
        return AccountIdentity(id: uri, name: me.name ?? uri)
    }

    package static func validate(_ account: AccountConfig, sandboxed: Bool) throws {
        if let n = account.setting("access_token"), try n.string().count < 16 { throw n.fail("that is too short to be a Vimeo access token") }
    }

    /// The sandbox's Vimeo, with a token made up for the account (the sandbox is told it at start).
    package static func useSandbox(_ account: inout AccountConfig, base: String, root: URL) -> [SandboxGrant] {
        account.endpoint = base
        account.tokenURL = base + descriptor.sandboxTokenPath
        account.authorizeURL = base + "/sandbox/oauth/vimeo/authorize"
        account.fillIn("access_token", "sandbox-vimeo-token-\(account.name)")
        return [.settings(["access_token"], of: account)]
    }
}
