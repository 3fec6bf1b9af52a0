import Foundation
import OmniPostCore

/// The platforms this build publishes to: adding one is a folder here (adapter + `PlatformModule`, whose
/// `useSandbox` says what a sandboxed account brings), a folder in OmniPostSandbox (its `SandboxPlatform`:
/// routes, its own state, what it takes from such an account, and an extension naming this platform's module
/// as its `SandboxedPlatform`) and one line below. Nothing else names a platform: the pipeline reaches the sandbox only through
/// a `PlatformEmbedding` (OmniPostEmbedded).
package enum PlatformRegistry {
    package static let platforms: [any PlatformModule.Type] = [
        YouTubePlatform.self,
        TikTokPlatform.self,
        XPlatform.self,
        LinkedInPlatform.self,
        InstagramPlatform.self,
        FacebookPlatform.self,
        ThreadsPlatform.self,
        VimeoPlatform.self,
        BlueskyPlatform.self,
        RedditPlatform.self,
        DouyinPlatform.self,
        BilibiliPlatform.self,
        KuaishouPlatform.self,
        WeChatChannelsPlatform.self,
        XiaohongshuPlatform.self,
        // Destinations: a copy of the finished clip, not a post.
        FolderPlatform.self,
        S3Platform.self,
        CommandPlatform.self,
        WebhookPlatform.self,
        TusPlatform.self
    ]

    /// Names OmniPost knows but this build has no adapter for yet: a target naming one is told so,
    /// rather than "unknown platform".
    package static let planned: [String] = []

    /// What sidecars may say to each platform, from the descriptors: handed to whoever reads sidecars.
    package static let rules = PlatformRules(platforms.map { $0.descriptor.facts })

    package static func module(_ name: String) -> (any PlatformModule.Type)? { platforms.first { $0.descriptor.name == name } }
    package static func descriptor(_ name: String) -> PlatformDescriptor? { module(name)?.descriptor }
    package static var implemented: [String] { platforms.map { $0.descriptor.name } }
    package static var known: [String] { implemented + planned }

    /// A pipeline file read and checked against the platforms this build has.
    package static func load(path: String) throws -> PipelineConfig {
        var config = try PipelineConfig.load(path: path)
        try resolve(&config)
        return config
    }

    package static func parse(text: String, file: String, baseDirectory: URL) throws -> PipelineConfig {
        var config = try PipelineConfig.parse(text: text, file: file, baseDirectory: baseDirectory)
        try resolve(&config)
        return config
    }

    /// Every problem of a pipeline file at once (`omnipost check`): its own reading, then each platform,
    /// account and setting it names. Nil config when the file does not parse at all.
    package static func check(path: String) -> (config: PipelineConfig?, problems: [OmniError]) {
        let (parsed, problems) = PipelineConfig.check(path: path)
        guard var config = parsed else { return (nil, problems.all) }
        do { try resolve(&config, problems: problems) } catch let e as OmniError { problems.add(e) } catch { problems.add(OmniError.wrap(error)) }
        return (config, problems.all)
    }

    /// Checks every platform the file names (at its line: unknown, with a suggestion, or not in this
    /// build yet) and fills each account's endpoints the file left out with the platform's own.
    /// `problems`: record each problem there and go on (`check`); nil: throw the first.
    package static func resolve(_ config: inout PipelineConfig, problems: ProblemList? = nil) throws {
        func each(_ body: () throws -> Void) throws {
            do { try body() } catch let e as OmniError {
                guard let problems else { throw e }
                problems.add(e)
            }
        }
        for m in config.platformMentions {
            try each {
                if implemented.contains(m.platform) { return }
                if m.what != "target", planned.contains(m.platform) { return }  // quotas and caps may name any known platform
                if planned.contains(m.platform) {
                    throw OmniError(.configInvalid, "platform '\(m.platform)' has no adapter in this build yet; available: \(implemented.joined(separator: ", "))", at: m.location)
                }
                var msg = "unknown platform '\(m.platform)' in \(m.what)"
                if let g = DidYouMean.suggest(m.platform, among: known) { msg += "; did you mean '\(g)'?" }
                throw OmniError(.configInvalid, msg, at: m.location)
            }
        }
        // A platform that fetches media from a URL has nowhere to fetch it from without `media_host:`.
        if config.mediaHost == nil, let t = config.targets.first(where: { descriptor($0.platform)?.needsMediaHost == true }) {
            let at = config.platformMentions.first { $0.what == "target" && $0.platform == t.platform }?.location
            try each {
                throw OmniError(
                    .configInvalid,
                    "target '\(t.name)': \(descriptor(t.platform)?.displayName ?? t.platform) fetches the video from a public link, so the pipeline needs `media_host:` (an S3-compatible bucket: endpoint, bucket, region, access_key_id, secret_access_key)",
                    at: at)
            }
        }
        // A target that names no profile gets its platform's default (Instagram's is `instagram_reels`).
        for i in config.targets.indices {
            let t = config.targets[i]
            if t.profile == t.platform, let d = descriptor(t.platform) { config.targets[i].profile = d.defaultProfile }
        }
        for (key, var account) in config.accounts {
            try each {
                guard let m = module(account.platform) else { return }
                let d = m.descriptor
                // A key this platform does not take is refused at its line (a typo of `bucket` says so).
                for (k, v) in account.settings where !d.settings.contains(k) {
                    let allowed = Array(AccountConfig.commonKeys.filter { d.oauth != nil || $0 == "endpoint" }) + d.settings
                    var msg = "unknown key '\(k)' for a \(d.displayName) account"
                    if let g = DidYouMean.suggest(k, among: allowed) {
                        msg += "; did you mean '\(g)'?"
                    } else {
                        msg += "; allowed keys: \(allowed.sorted().joined(separator: ", "))"
                    }
                    throw OmniError(.unknownKey, msg, at: v.node.location)
                }
                try m.validate(account, sandboxed: config.sandbox == .embedded)
                if account.endpoint.isEmpty { account.endpoint = d.apiRoot }
                if account.tokenURL.isEmpty { account.tokenURL = d.oauth?.tokenURL ?? "" }
                if account.authorizeURL.isEmpty { account.authorizeURL = d.oauth?.authorizeURL ?? "" }
                if account.deviceURL.isEmpty { account.deviceURL = d.oauth?.deviceAuthorizationURL ?? "" }
                config.accounts[key] = account
            }
        }
    }

    /// The adapter for one target, with the connection settings every adapter shares.
    package static func makeAdapter(platform: String, settings: AdapterSettings) -> (any PlatformAdapter)? {
        module(platform)?.makeAdapter(settings)
    }
}
