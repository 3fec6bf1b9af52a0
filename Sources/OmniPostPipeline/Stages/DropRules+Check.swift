import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPlatforms

extension DropRules {
    /// The rules of a pipeline as `run` would hold them, for `omnipost check`: its profiles (bundled,
    /// overlaid with its own) and an adapter per target for preflight — adapters that are never asked to
    /// send anything, so they hold no credentials and no ledger.
    package static func forChecking(_ config: PipelineConfig) throws -> DropRules {
        var adapters: [String: any PlatformAdapter] = [:]
        for t in config.targets {
            guard var account = config.accounts[t.accountKey] else { continue }
            // As `run` opens it: in sandbox mode each account gets the sandbox's own settings (a subreddit…).
            if config.sandbox == .embedded {
                _ = PlatformRegistry.module(account.platform)?.useSandbox(&account, base: "http://127.0.0.1", root: config.paths.root.appendingPathComponent("sandbox"))
            }
            let tokens = TokenProvider(account: account, http: HTTPClient.shared, store: NoTokens())
            let settings = AdapterSettings(account: account, tokens: tokens, http: HTTPClient.shared, uploads: HTTPClient.shared, chunkSize: config.upload.chunkSize)
            adapters[t.name] = PlatformRegistry.makeAdapter(platform: t.platform, settings: settings)
        }
        return DropRules(config: config, profiles: try ProfileCatalog.bundled().overlaid(with: config.overrides), adapters: adapters)
    }

    /// The stem a sidecar gives its drop (`clip.yaml` and `clip.mp4.yaml` → `clip`), as the watcher pairs them.
    package static func stem(ofSidecar path: String) -> String {
        ((DropNaming.sidecarKeys(path).last ?? path) as NSString).lastPathComponent
    }

    /// What `check` stands in for a clip it does not have: the sidecar's stem and fields, a 60 s 1080×1920 clip.
    package func sampleVariables(for manifest: Manifest, stem: String, now: Date) -> [String: String] {
        DropRules.variables(
            fields: manifest.fields, stem: stem, filename: manifest.clip ?? stem + ".mp4", now: now,
            durationS: 60, width: 1080, height: 1920, pipeline: config.name)
    }

    /// The pipeline's `defaults:` against every target, as a drop without a sidecar (or one that sets
    /// nothing) would meet them: a default no target can take (`privacy: private` with Instagram) fails here,
    /// not on every drop. Template variables a clip list would supply are taken as given.
    package func defaultsProblems(now: Date) -> [OmniError] {
        var vars = sampleVariables(for: Manifest(), stem: "example", now: now)
        for text in [config.defaults.title?.value, config.defaults.description?.value].compactMap({ $0 }) {
            for name in Template.names(in: text) where vars[name] == nil { vars[name] = name }
        }
        let at = config.defaults.location ?? SourceLocation(file: config.file)
        return problems(of: Manifest(), vars: vars, now: now, at: at)
    }
}

/// No stored tokens: a checking adapter never authorizes anything.
struct NoTokens: TokenStore {
    func load(account: String) async throws -> (accessToken: String?, expiresAt: Date?, refreshToken: String?) { (nil, nil, nil) }
    func save(account: String, accessToken: String, expiresAt: Date, refreshToken: String?) async throws {}
}
