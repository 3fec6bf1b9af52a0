import Foundation
import Yams

/// A pipeline: where its folders are, how it watches, which targets it publishes to, and the
/// defaults a sidecar may leave out. Parsed from YAML with file:line:col errors.
package struct PipelineConfig: Sendable {
    package var name: String
    package var file: String
    package var paths: PipelinePaths
    package var watch: WatchConfig
    package var sidecar: SidecarPolicy
    package var sandbox: SandboxMode
    package var upload: UploadConfig
    package var convert: ConvertConfig
    package var defaults: ManifestDefaults
    package var targets: [TargetConfig]
    package var accounts: [String: AccountConfig]
    /// The pipeline's own `profiles:` file: profiles and quota lists replacing or adding to the bundled ones by name.
    package var overrides = ProfileCatalog(profiles: [:])
    /// Publishing slots for `publish_at: next_slot`, staggering and native scheduling.
    package var schedule = SlotSchedule()
    /// Where the key that seals credentials in the ledger comes from.
    package var credentials = CredentialsConfig()
    /// Where renditions go for platforms that fetch media from a URL (Threads). Made up in sandbox mode.
    package var mediaHost: MediaHostConfig?
    /// The daemon's HTTP listener; nil: none.
    package var http: HTTPConfig?
    package var accountChecks = AccountCheckConfig()
    /// Reading posts back after publishing: when, and their numbers' schedule (`after_post:`).
    package var afterPost = AfterPostConfig()
    /// Where alerts go; nil: nowhere.
    package var notify: NotifyConfig?
    /// The language model that writes text a sidecar asks for with `ai:`; nil: none.
    package var captions: CaptionsConfig?
    /// Who must look before a drop goes out (`approval:`); default: nobody.
    package var approval = ApprovalConfig()
    /// A PostgreSQL ledger shared by several hosts (`ledger:`); nil: the SQLite file at `paths.ledger`.
    package var sharedLedger: PostgresLedgerConfig?
    /// `inbox: {s3: …}`: a bucket's prefix polled as the inbox besides the folder.
    package var s3Inbox: S3InboxConfig?
    /// This host among several sharing the ledger (`host:`, `host_roles:`): its name and what it takes up.
    package var host = HostConfig()

    /// Where the file names a platform (targets, accounts, quotas, per-platform caps): the platform
    /// registry checks each against the platforms this build has, and answers at that line.
    package var platformMentions: [PlatformMention] = []

    package func target(named name: String) -> TargetConfig? { targets.first { $0.name == name } }
}

package struct PlatformMention: Sendable {
    package var platform: String
    package var location: SourceLocation
    /// `target`, `accounts`, `quotas`, `upload.per_platform`.
    package var what: String
}

package struct PipelinePaths: Sendable {
    package var root: URL
    package var inbox: URL
    package var outbox: URL
    package var archive: URL
    package var failed: URL
    package var work: URL
    package var ledger: URL

    package init(root: URL, inbox: URL? = nil, outbox: URL? = nil, archive: URL? = nil, failed: URL? = nil, work: URL? = nil, ledger: URL? = nil) {
        self.root = root
        self.inbox = inbox ?? root.appendingPathComponent("inbox")
        self.outbox = outbox ?? root.appendingPathComponent("outbox")
        self.archive = archive ?? root.appendingPathComponent("archive")
        self.failed = failed ?? root.appendingPathComponent("failed")
        self.work = work ?? root.appendingPathComponent("work")
        self.ledger = ledger ?? root.appendingPathComponent("ledger.sqlite")
    }

    package var outboxFailed: URL { outbox.appendingPathComponent("failed") }

    /// Creates every folder the pipeline writes to.
    package func createAll() throws {
        for dir in [inbox, outbox, outboxFailed, archive, failed, work] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
    }
}

package enum WatchMode: String, Sendable, CaseIterable { case auto, inotify, poll }

package struct WatchConfig: Sendable {
    package var mode: WatchMode = .auto
    /// How long size and mtime must stay unchanged after the last write before a file counts as complete.
    package var settle: Duration = .seconds(2) { didSet { settleIsDefault = false } }
    /// True unless `settle` was set (`watch.settle`): a polled inbox then uses a longer default.
    package private(set) var settleIsDefault = true
    package var pollInterval: Duration = .seconds(2)
    /// Extra ignore patterns on top of the built-in junk list.
    package var ignore: [String] = []
    /// Marker mode: a file counts as complete only once `<name>.ready` exists beside it (and it has settled).
    package var readyMarker = false
    /// How long a file that may still be open through a name the watcher cannot see (a hard link, an
    /// mmap writer) must stay unchanged; nil: 10 × settle, at least a minute. Set by embedders and tests.
    package var openQuiet: Duration?
    package init() {}
}

package enum MissingSidecarAction: String, Sendable { case fail, defaults }

package struct SidecarPolicy: Sendable {
    package var grace: Duration = .seconds(30)
    package var missing: MissingSidecarAction = .fail
    /// Entries a clip list may hold (`max_list_entries`); one more fails the list with `manifest_too_large`.
    package var maxListEntries = ClipList.defaultMaxEntries
    package init() {}
}

package enum SandboxMode: Sendable, Equatable {
    case none
    /// Start the bundled sandbox in-process on an ephemeral loopback port and point every account at it.
    case embedded
}

package struct UploadConfig: Sendable {
    /// Bytes per PUT; YouTube requires a multiple of 256 KiB for every chunk but the last.
    package var chunkSize: Int64 = 8 * 1_048_576
    package var concurrency: Int = 2
    package var maxAttempts: Int = 10
    /// A delivery still failing this long after its first attempt stops retrying (`retries_exhausted`).
    package var maxAge: Duration = .seconds(72 * 3600)
    package var requestTimeout: Duration = .seconds(120)
    /// Certificate authorities to trust besides the system's (PEM): a private CA, a TLS-inspecting
    /// proxy, a self-hosted server's. Sandbox mode adds the sandbox's own.
    package var caFile: URL?
    /// Uploads in flight at once per platform (e.g. `tiktok: 1`), on top of `concurrency`.
    package var perPlatform: [String: Int] = [:]
    /// Uploads in flight at once per account.
    package var perAccount: Int = 2
    package var breaker = BreakerPolicy()
    package init() {}
}

/// Circuit breaker per platform+account: after `failures` failed attempts in a row the account's
/// uploads pause for `cooldown`; then one probe goes, and its outcome closes or reopens the breaker.
package struct BreakerPolicy: Sendable, Equatable {
    package var failures: Int = 5
    package var cooldown: Double = 300
    package init(failures: Int = 5, cooldown: Double = 300) {
        self.failures = failures
        self.cooldown = cooldown
    }
}

package struct CredentialsConfig: Sendable {
    /// A file holding the 32-byte AES-256-GCM key (base64); created 0600 when missing. Default: `<root>/secret.key`.
    package var keyFile: URL?
    /// An environment variable holding the key (base64) instead of a file.
    package var keyEnv: String = "OMNIPOST_SECRET_KEY"
    package init() {}
}

package enum AspectPolicy: String, Sendable { case fit, fill, reject }

package struct ConvertConfig: Sendable {
    package var aspect: AspectPolicy = .fit
    /// x264/x265 quality and speed for every transcode of this pipeline; nil: each profile's recommendation.
    package var crf: Int?
    package var preset: String?
    /// EBU R128 loudness normalisation (ffmpeg loudnorm) on transcoded audio; pass-through clips stay untouched.
    package var loudnorm = false
    package init() {}
}

package struct TargetConfig: Sendable, Hashable {
    /// The name sidecars use in `targets:`, e.g. `youtube:main`.
    package var name: String
    package var platform: String
    package var profile: String
    package var account: String

    package var accountKey: String { "\(platform):\(account)" }
}

package struct AccountConfig: Sendable {
    package var key: String
    package var platform: String
    package var clientID: String
    package var clientSecret: String
    package var refreshToken: String
    /// API root, e.g. https://www.googleapis.com; replaced by the sandbox's URL in embedded mode.
    /// Empty until the platform registry fills in the platform's own (when the file names none).
    package var endpoint: String
    package var tokenURL: String
    /// Where a person grants access (`accounts add`); the platform's own unless the file names one.
    package var authorizeURL: String = ""
    /// The device authorization endpoint (`accounts add --device`), where the platform has one.
    package var deviceURL: String = ""
    /// The platform's own id of what posts (`id:` under the account): a LinkedIn author URN
    /// (`urn:li:person:…`, `urn:li:organization:…`), an Instagram user id, a Facebook page id. Empty:
    /// the adapter asks the platform who the token belongs to, where it can.
    package var accountID: String = ""
    /// Everything else written under the account: a destination's own settings (an S3 target's
    /// `bucket:`, a folder's `path:`, a webhook's `url:`). Which keys a platform takes, and what they must
    /// hold, is its module's to say (`PlatformRegistry.resolve`), at the setting's own line.
    package var settings: [String: AccountSetting] = [:]
    /// Where the account is written (`accounts:` → `s3:archive:`), for a setting that is missing.
    package var location: SourceLocation?

    package init(
        key: String, platform: String, clientID: String, clientSecret: String, refreshToken: String, endpoint: String, tokenURL: String,
        accountID: String = ""
    ) {
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
package struct AccountSetting: @unchecked Sendable {  // an immutable parsed tree, never changed after parsing
    package let node: DocNode
    package init(_ node: DocNode) { self.node = node }
}

extension AccountConfig {
    /// The keys every account may have; the rest are its platform's settings.
    package static let commonKeys: Set<String> = [
        "client_id", "client_secret", "refresh_token", "endpoint", "token_url", "id", "authorize_url", "device_url", "client_secrets_file"
    ]

    /// The environment variables an account's client may come from instead of the file:
    /// `OMNIPOST_YOUTUBE_MAIN_CLIENT_ID` and `…_CLIENT_SECRET` for `youtube:main`.
    package static func environmentName(_ key: String, _ field: String) -> String {
        "OMNIPOST_" + key.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined() + "_" + field
    }

    /// The account's own name: `archive` in `s3:archive`.
    package var name: String { key.split(separator: ":", maxSplits: 1).last.map(String.init) ?? key }

    /// A setting, or nil when it is not written.
    package func setting(_ key: String) -> DocNode? { settings[key]?.node }

    /// A setting that must be written: its absence is an error at the account's own line.
    package func required(_ key: String, _ what: String) throws -> DocNode {
        if let n = setting(key) { return n }
        throw OmniError(.configInvalid, "account '\(self.key)' needs `\(key)` (\(what))", at: location)
    }

    /// A text setting, or `fallback` when it is not written.
    package func text(_ key: String, default fallback: String? = nil) throws -> String? {
        try setting(key)?.string() ?? fallback
    }

    /// Sets a setting the file left out (what the sandbox fills in); one that is written stays.
    package mutating func fillIn(_ key: String, _ value: String) {
        if settings[key] != nil { return }
        settings[key] = AccountSetting(DocNode(node: Node(value, Tag(.str, .basic)), file: "(sandbox default for \(self.key))", invalidCode: .configInvalid))
    }

    /// An error at a setting's line (or at the account's, when the setting is not written).
    package func fail(_ key: String, _ message: String) -> OmniError {
        OmniError(.configInvalid, message, at: setting(key)?.location ?? location)
    }
}

extension PipelineConfig {
    /// The account `key` names (`platform:name`), or an error that says which pipeline lacks it and what
    /// was probably meant — one answer for every command that takes an account.
    package func account(_ key: String) throws -> AccountConfig {
        guard let a = accounts[key] else {
            var msg = "pipeline \(name) has no account '\(key)'"
            if let g = DidYouMean.suggest(key, among: Array(accounts.keys)) { msg += "; did you mean '\(g)'?" }
            throw OmniError(.configInvalid, msg)
        }
        return a
    }
}
