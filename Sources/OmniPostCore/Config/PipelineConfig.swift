import Foundation
import Yams

/// A pipeline: where its folders are, how it watches, which targets it publishes to, and the
/// defaults a sidecar may leave out. Parsed from YAML with file:line:col errors.
public struct PipelineConfig: Sendable {
    public var name: String
    public var file: String
    public var paths: PipelinePaths
    public var watch: WatchConfig
    public var sidecar: SidecarPolicy
    public var sandbox: SandboxMode
    public var upload: UploadConfig
    public var convert: ConvertConfig
    public var defaults: ManifestDefaults
    public var targets: [TargetConfig]
    public var accounts: [String: AccountConfig]
    /// The pipeline's own `profiles:` file: profiles and quota lists replacing or adding to the bundled ones by name.
    public var overrides = ProfileCatalog(profiles: [:])
    /// Publishing slots for `publish_at: next_slot`, staggering and native scheduling.
    public var schedule = SlotSchedule()
    /// Where the key that seals credentials in the ledger comes from.
    public var credentials = CredentialsConfig()
    /// Where renditions go for platforms that fetch media from a URL (Threads). Made up in sandbox mode.
    public var mediaHost: MediaHostConfig?
    /// The daemon's HTTP listener; nil: none.
    public var http: HTTPConfig?
    public var accountChecks = AccountCheckConfig()
    /// Where alerts go; nil: nowhere.
    public var notify: NotifyConfig?

    /// Where the file names a platform (targets, accounts, quotas, per-platform caps): the platform
    /// registry checks each against the platforms this build has, and answers at that line.
    public var platformMentions: [PlatformMention] = []

    public func target(named name: String) -> TargetConfig? { targets.first { $0.name == name } }
}

public struct PlatformMention: Sendable {
    public var platform: String
    public var location: SourceLocation
    /// `target`, `accounts`, `quotas`, `upload.per_platform`.
    public var what: String
}

public struct PipelinePaths: Sendable {
    public var root: URL
    public var inbox: URL
    public var outbox: URL
    public var archive: URL
    public var failed: URL
    public var work: URL
    public var ledger: URL

    public init(root: URL, inbox: URL? = nil, outbox: URL? = nil, archive: URL? = nil, failed: URL? = nil, work: URL? = nil, ledger: URL? = nil) {
        self.root = root
        self.inbox = inbox ?? root.appendingPathComponent("inbox")
        self.outbox = outbox ?? root.appendingPathComponent("outbox")
        self.archive = archive ?? root.appendingPathComponent("archive")
        self.failed = failed ?? root.appendingPathComponent("failed")
        self.work = work ?? root.appendingPathComponent("work")
        self.ledger = ledger ?? root.appendingPathComponent("ledger.sqlite")
    }

    public var outboxFailed: URL { outbox.appendingPathComponent("failed") }

    /// Creates every folder the pipeline writes to.
    public func createAll() throws {
        for dir in [inbox, outbox, outboxFailed, archive, failed, work] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
    }
}

public enum WatchMode: String, Sendable, CaseIterable { case auto, inotify, poll }

public struct WatchConfig: Sendable {
    public var mode: WatchMode = .auto
    /// How long size and mtime must stay unchanged after the last write before a file counts as complete.
    public var settle: Duration = .seconds(2) { didSet { settleIsDefault = false } }
    /// True unless `settle` was set (`watch.settle`): a polled inbox then uses a longer default.
    public private(set) var settleIsDefault = true
    public var pollInterval: Duration = .seconds(2)
    /// Extra ignore patterns on top of the built-in junk list.
    public var ignore: [String] = []
    /// Marker mode: a file counts as complete only once `<name>.ready` exists beside it (and it has settled).
    public var readyMarker = false
    /// How long a file that may still be open through a name the watcher cannot see (a hard link, an
    /// mmap writer) must stay unchanged; nil: 10 × settle, at least a minute. Set by embedders and tests.
    public var openQuiet: Duration?
    public init() {}
}

public enum MissingSidecarAction: String, Sendable { case fail, defaults }

public struct SidecarPolicy: Sendable {
    public var grace: Duration = .seconds(30)
    public var missing: MissingSidecarAction = .fail
    /// Entries a clip list may hold (`max_list_entries`); one more fails the list with `manifest_too_large`.
    public var maxListEntries = ClipList.defaultMaxEntries
    public init() {}
}

public enum SandboxMode: Sendable, Equatable {
    case none
    /// Start the bundled sandbox in-process on an ephemeral loopback port and point every account at it.
    case embedded
}

public struct UploadConfig: Sendable {
    /// Bytes per PUT; YouTube requires a multiple of 256 KiB for every chunk but the last.
    public var chunkSize: Int64 = 8 * 1_048_576
    public var concurrency: Int = 2
    public var maxAttempts: Int = 10
    /// A delivery still failing this long after its first attempt stops retrying (`retries_exhausted`).
    public var maxAge: Duration = .seconds(72 * 3600)
    public var requestTimeout: Duration = .seconds(120)
    /// Certificate authorities to trust besides the system's (PEM): a private CA, a TLS-inspecting
    /// proxy, a self-hosted server's. Sandbox mode adds the sandbox's own.
    public var caFile: URL?
    /// Uploads in flight at once per platform (e.g. `tiktok: 1`), on top of `concurrency`.
    public var perPlatform: [String: Int] = [:]
    /// Uploads in flight at once per account.
    public var perAccount: Int = 2
    public var breaker = BreakerPolicy()
    public init() {}
}

/// Circuit breaker per platform+account: after `failures` failed attempts in a row the account's
/// uploads pause for `cooldown`; then one probe goes, and its outcome closes or reopens the breaker.
public struct BreakerPolicy: Sendable, Equatable {
    public var failures: Int = 5
    public var cooldown: Double = 300
    public init(failures: Int = 5, cooldown: Double = 300) {
        self.failures = failures
        self.cooldown = cooldown
    }
}

public struct CredentialsConfig: Sendable {
    /// A file holding the 32-byte AES-256-GCM key (base64); created 0600 when missing. Default: `<root>/secret.key`.
    public var keyFile: URL?
    /// An environment variable holding the key (base64) instead of a file.
    public var keyEnv: String = "OMNIPOST_SECRET_KEY"
    public init() {}
}

public enum AspectPolicy: String, Sendable { case fit, fill, reject }

public struct ConvertConfig: Sendable {
    public var aspect: AspectPolicy = .fit
    /// x264/x265 quality and speed for every transcode of this pipeline; nil: each profile's recommendation.
    public var crf: Int?
    public var preset: String?
    /// EBU R128 loudness normalisation (ffmpeg loudnorm) on transcoded audio; pass-through clips stay untouched.
    public var loudnorm = false
    public init() {}
}

public struct TargetConfig: Sendable, Hashable {
    /// The name sidecars use in `targets:`, e.g. `youtube:main`.
    public var name: String
    public var platform: String
    public var profile: String
    public var account: String

    public var accountKey: String { "\(platform):\(account)" }
}

public struct AccountConfig: Sendable {
    public var key: String
    public var platform: String
    public var clientID: String
    public var clientSecret: String
    public var refreshToken: String
    /// API root, e.g. https://www.googleapis.com; replaced by the sandbox's URL in embedded mode.
    /// Empty until the platform registry fills in the platform's own (when the file names none).
    public var endpoint: String
    public var tokenURL: String
    /// Where a person grants access (`accounts add`); the platform's own unless the file names one.
    public var authorizeURL: String = ""
    /// The device authorization endpoint (`accounts add --device`), where the platform has one.
    public var deviceURL: String = ""
    /// The platform's own id of what posts (`id:` under the account): a LinkedIn author URN
    /// (`urn:li:person:…`, `urn:li:organization:…`), an Instagram user id, a Facebook page id. Empty:
    /// the adapter asks the platform who the token belongs to, where it can.
    public var accountID: String = ""
    /// Everything else written under the account: a destination's own settings (an S3 target's
    /// `bucket:`, a folder's `path:`, a webhook's `url:`). Which keys a platform takes, and what they must
    /// hold, is its module's to say (`PlatformRegistry.resolve`), at the setting's own line.
    public var settings: [String: AccountSetting] = [:]
    /// Where the account is written (`accounts:` → `s3:archive:`), for a setting that is missing.
    public var location: SourceLocation?

    public init(key: String, platform: String, clientID: String, clientSecret: String, refreshToken: String, endpoint: String, tokenURL: String,
                accountID: String = "") {
        self.accountID = accountID
        self.key = key
        self.platform = platform
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.refreshToken = refreshToken
        self.endpoint = endpoint
        self.tokenURL = tokenURL
    }
}

/// One setting under an account as written, kept as its parsed node so whoever reads it can fail at its
/// line and column with the typed reads every config value has.
public struct AccountSetting: @unchecked Sendable {   // an immutable parsed tree, never changed after parsing
    public let node: DocNode
    public init(_ node: DocNode) { self.node = node }
}

extension AccountConfig {
    /// The keys every account may have; the rest are its platform's settings.
    public static let commonKeys: Set<String> = ["client_id", "client_secret", "refresh_token", "endpoint", "token_url", "id", "authorize_url", "device_url", "client_secrets_file"]

    /// The environment variables an account's client may come from instead of the file:
    /// `OMNIPOST_YOUTUBE_MAIN_CLIENT_ID` and `…_CLIENT_SECRET` for `youtube:main`.
    public static func environmentName(_ key: String, _ field: String) -> String {
        "OMNIPOST_" + key.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined() + "_" + field
    }

    /// The account's own name: `archive` in `s3:archive`.
    public var name: String { key.split(separator: ":", maxSplits: 1).last.map(String.init) ?? key }

    /// A setting, or nil when it is not written.
    public func setting(_ key: String) -> DocNode? { settings[key]?.node }

    /// A setting that must be written: its absence is an error at the account's own line.
    public func required(_ key: String, _ what: String) throws -> DocNode {
        if let n = setting(key) { return n }
        throw OmniError(.configInvalid, "account '\(self.key)' needs `\(key)` (\(what))", at: location)
    }

    /// A text setting, or `fallback` when it is not written.
    public func text(_ key: String, default fallback: String? = nil) throws -> String? {
        try setting(key)?.string() ?? fallback
    }

    /// Sets a setting the file left out (what the sandbox fills in); one that is written stays.
    public mutating func fillIn(_ key: String, _ value: String) {
        if settings[key] != nil { return }
        settings[key] = AccountSetting(DocNode(node: Node(value), file: "(sandbox default for \(self.key))", invalidCode: .configInvalid))
    }

    /// An error at a setting's line (or at the account's, when the setting is not written).
    public func fail(_ key: String, _ message: String) -> OmniError {
        OmniError(.configInvalid, message, at: setting(key)?.location ?? location)
    }
}

extension PipelineConfig {
    /// The account `key` names (`platform:name`), or an error that says which pipeline lacks it and what
    /// was probably meant — one answer for every command that takes an account.
    public func account(_ key: String) throws -> AccountConfig {
        guard let a = accounts[key] else {
            var msg = "pipeline \(name) has no account '\(key)'"
            if let g = DidYouMean.suggest(key, among: Array(accounts.keys)) { msg += "; did you mean '\(g)'?" }
            throw OmniError(.configInvalid, msg)
        }
        return a
    }
}
