import AsyncHTTPClient
import NIOSSL
import Foundation
import Logging
import OmniPostCore

/// The connection settings every adapter shares — one value, made once per target by the registry,
/// rather than each adapter keeping its own copy of the same six things.
package struct AdapterSettings: Sendable {
    package var account: AccountConfig
    package var tokens: TokenProvider
    package var http: HTTPClient
    /// The client for every request `api` and `parts` send (the session, the parts, the finish, the post)
    /// and for every S3 request: it never follows a redirect (`UploadRedirect`), and one client keeps an
    /// upload's requests on one connection. Made beside `http` with its TLS by the pipeline and the bench;
    /// an account check, which sends no upload, passes its `http`; else the process-wide one (the system's CAs).
    package var uploads: HTTPClient
    /// The pipeline's `upload.chunk_size`; each adapter brings it within its platform's own rules.
    package var chunkSize: Int64
    /// Tries per request within one attempt (network errors, 5xx), with `backoff` between them.
    package var maxAttempts: Int
    package var requestTimeout: Duration
    package var backoff: Backoff
    /// Where renditions go for platforms that fetch media from a URL (Threads); nil when `media_host:` is unset.
    package var mediaHost: MediaHost?
    /// The TLS settings `http` was made with (extra trusted CAs: the sandbox's, a private one), for
    /// connections it does not make itself (Reddit's WebSocket).
    package var tls: TLSConfiguration = .makeClientConfiguration()
    /// How long one verb of the upload engine may take (`VerbTimeout`); nil: the adapter's own limits
    /// (three request timeouts; a post also its processing window).
    package var verbTimeout: Duration? = nil
    /// Where the engine's line per verb goes (`LogVerbs`, at debug).
    package var logger = Logger(label: "omnipost.upload")
    /// For the driven-browser platforms: profiles, cookies, where failure screenshots go, one browser at a time.
    package var browser: BrowserSettings? = nil
    /// What the account's names resolved to on the platform (a playlist by name): the ledger's in a pipeline.
    package var names: any RemoteNames = MemoryRemoteNames.shared

    package init(
        account: AccountConfig, tokens: TokenProvider, http: HTTPClient, uploads: HTTPClient? = nil, chunkSize: Int64, maxAttempts: Int = 10,
        requestTimeout: Duration = .seconds(120), backoff: Backoff = Backoff()
    ) {
        self.account = account
        self.tokens = tokens
        self.http = http
        self.uploads = uploads ?? UploadRedirect.shared
        self.chunkSize = chunkSize
        self.maxAttempts = maxAttempts
        self.requestTimeout = requestTimeout
        self.backoff = backoff
    }

    /// Requests with the account's token where its platform wants it, refreshed on a 401 (or the
    /// platform's own word for a refused token), on `uploads`: a redirect is not followed but answered as
    /// one failure naming where it pointed.
    package var api: AuthorizedHTTP {
        var api = AuthorizedHTTP(http: uploads, tokens: tokens, timeout: requestTimeout)
        let d = PlatformRegistry.descriptor(account.platform)
        if let d {
            api.tokenHeader = d.tokenHeader
            api.tokenRefused = d.tokenRefused
        }
        api.refusesRedirects = d?.displayName ?? account.platform
        return api
    }

    /// `api` for the requests that carry an upload's bytes (a part, a segment, a fragment): the same
    /// client and token handling; a redirect's sentence says the bytes were not sent on.
    package var parts: AuthorizedHTTP {
        var parts = api
        parts.carriesUpload = true
        return parts
    }
}

/// A platform, as one unit: its descriptor and how to make its adapter. Each platform's folder holds
/// one type conforming to this (see `YouTube/YouTubePlatform.swift` for the recipe), listed once in
/// `PlatformRegistry.platforms`; its sandbox is a folder in OmniPostSandbox that names it (`SandboxedPlatform`).
package protocol PlatformModule: Sendable {
    static var descriptor: PlatformDescriptor { get }
    static func makeAdapter(_ settings: AdapterSettings) -> any PlatformAdapter
    /// Checks an account's settings (`omnipost check` and every start): a bad bucket name, a URL that is
    /// not one, a command that is not executable — an error at the setting's line. `sandboxed`: the
    /// pipeline runs against the bundled sandbox, which fills in what is left out.
    static func validate(_ account: AccountConfig, sandboxed: Bool) throws
    /// Points an account at the bundled sandbox at `base` (`root` is the pipeline's state folder).
    /// OAuth platforms: API and token endpoint both; a destination only where its file left it unset.
    /// Returns what the sandbox must be told to accept the account (keys, a token, a password, a secret):
    /// the settings by name, which the platform's `SandboxPlatform.grant` reads.
    static func useSandbox(_ account: inout AccountConfig, base: String, root: URL) -> [SandboxGrant]
    /// The User-Agent this platform's requests carry (token refreshes too), when it has rules for one
    /// (Reddit's); nil: OmniPost's own.
    static func userAgent(for account: AccountConfig) -> String?
    /// Who the account is (channel, user, member), read with its token: what `accounts add` shows and
    /// `accounts check` proves the token works with. Nil: the platform has no such call.
    static func whoAmI(_ settings: AdapterSettings) async throws -> AccountIdentity?
    /// What the grant reaches that `id:` chooses among (a user's Pages, their Instagram accounts).
    static func choices(_ settings: AdapterSettings) async throws -> [AccountIdentity]
    /// What is left of the platform's own quota, where it can be read (`accounts check`).
    static func remainingQuota(_ settings: AdapterSettings) async throws -> String?
}

/// An account as its platform names it.
package struct AccountIdentity: Sendable, Equatable {
    package var id: String
    package var name: String
    package init(id: String, name: String) {
        self.id = id
        self.name = name
    }

    /// Among what a grant reaches (`choices`), the one the account's `id:` names — else the first.
    /// `none` says what is missing when the grant reaches nothing.
    static func chosen(_ all: [AccountIdentity], by account: AccountConfig, what: String, none: String) throws -> AccountIdentity {
        let want = account.accountID
        guard let one = want.isEmpty ? all.first : all.first(where: { $0.id == want }) else {
            throw DeliveryError(
                .permanent, .configInvalid,
                want.isEmpty
                    ? none
                    : "the grant does not reach \(what) \(want) (id: under accounts: \(account.key)); it reaches \(all.map { "\($0.id) (\($0.name))" }.joined(separator: ", "))")
        }
        return one
    }
}

/// What a sandboxed account brings to the sandbox, as its owner would give it to the real service: the
/// platform whose sandbox takes it, the account, and the credentials by the names the account's own
/// settings give them (`access_key_id`, `app_password`, `secret`…). Open, so a platform adds none of its
/// own kinds here: its sandbox reads the names it set.
package struct SandboxGrant: Sendable, Equatable {
    package var platform: String
    package var account: String
    package var credentials: [String: String]

    package init(platform: String, account: String, _ credentials: [String: String]) {
        self.platform = platform
        self.account = account
        self.credentials = credentials
    }

    /// The account's settings named in `keys`, as they read (a setting left out is left out here too).
    package static func settings(_ keys: [String], of account: AccountConfig) -> SandboxGrant {
        var out: [String: String] = [:]
        for k in keys { if let v = try? account.text(k) { out[k] = v } }
        return SandboxGrant(platform: account.platform, account: account.key, out)
    }
}

extension PlatformModule {
    package static func validate(_ account: AccountConfig, sandboxed: Bool) throws {}
    package static func userAgent(for account: AccountConfig) -> String? { nil }
    package static func useSandbox(_ account: inout AccountConfig, base: String, root: URL) -> [SandboxGrant] {
        pointAtSandbox(&account, base: base)
        return []
    }

    /// The account's API, token, consent and device endpoints at the sandbox's, where the descriptor says.
    package static func pointAtSandbox(_ account: inout AccountConfig, base: String) {
        account.endpoint = base
        account.tokenURL = base + descriptor.sandboxTokenPath
        account.authorizeURL = base + "/sandbox/oauth/\(descriptor.name)/authorize"
        if let p = descriptor.oauth?.sandboxDevicePath { account.deviceURL = base + p }
    }
    package static func whoAmI(_ settings: AdapterSettings) async throws -> AccountIdentity? { nil }
    package static func choices(_ settings: AdapterSettings) async throws -> [AccountIdentity] { [] }
    package static func remainingQuota(_ settings: AdapterSettings) async throws -> String? { nil }
}

/// An adapter built on `AdapterSettings`: the shared settings read by name, in one place.
protocol SettingsBacked {
    var settings: AdapterSettings { get }
}

extension SettingsBacked {
    var tokens: TokenProvider { settings.tokens }
    var http: HTTPClient { settings.http }
    var maxAttempts: Int { settings.maxAttempts }
    var requestTimeout: Duration { settings.requestTimeout }
    var backoff: Backoff { settings.backoff }
}

/// Where a rendition is put for a platform that fetches it from a URL, and how long the link handed
/// to the platform works: a bucket (a presigned GET), or this daemon (a signed link on its listener).
package struct MediaHost: Sendable {
    package enum Store: Sendable {
        case bucket(S3Bucket)
        /// Files in `folder` (named by their sha256), served at `base` + `/media/<name>` by the daemon.
        case served(folder: URL, base: String, signer: MediaLinkSigner)
    }
    package var store: Store
    package var linkTTL: Int
    package init(bucket: S3Bucket, linkTTL: Int) {
        self.store = .bucket(bucket)
        self.linkTTL = linkTTL
    }
    package init(store: Store, linkTTL: Int) {
        self.store = store
        self.linkTTL = linkTTL
    }

    /// Puts the rendition where the platform can fetch it, named by its content's hash (the same
    /// rendition is stored once whatever retries happen), and returns the link that expires.
    package func publish(file: String, sha256: String, size: Int64, contentType: String) async throws -> String {
        let ext = (file as NSString).pathExtension.isEmpty ? "mp4" : (file as NSString).pathExtension.lowercased()
        let name = sha256 + "." + ext
        switch store {
        case .bucket(let bucket):
            let key = bucket.config.prefix + name
            try await bucket.put(file: file, key: key, size: size, sha256: sha256, contentType: contentType)
            return bucket.presignedGET(key: key, ttl: linkTTL)
        case .served(let folder, let base, let signer):
            MediaLinkSigner.sweep(folder: folder, olderThan: linkTTL + 600)
            try Self.stage(file: file, as: folder.appendingPathComponent(name))
            return signer.link(base: base, name: name, ttl: linkTTL)
        }
    }

    /// A hard link to the rendition (same file system, no copy), else a copy renamed into place. One
    /// already there is linked anew, so the sweep counts its age from this link on.
    static func stage(file: String, as dest: URL) throws {
        let fm = FileManager.default
        unlink(dest.path)
        do {
            try fm.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
            if link(file, dest.path) == 0 || errno == EEXIST { return }
            let tmp = dest.deletingLastPathComponent().appendingPathComponent(".\(dest.lastPathComponent).\(getpid()).partial")
            try? fm.removeItem(at: tmp)
            try fm.copyItem(atPath: file, toPath: tmp.path)
            guard rename(tmp.path, dest.path) == 0 else { throw OmniError(.archiveIO, "cannot rename \(tmp.lastPathComponent) into place") }
        } catch {
            throw DeliveryError(.retryNow, .archiveIO, "the rendition could not be put where the daemon serves it: \(error)")
        }
    }
}
