import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import OmniPostCore
import OmniPostPipeline
import OmniPostPlatforms
import OmniPostSandbox
import Testing

/// A platform is one unit: a registry entry (descriptor + adapter factory) and its sandbox routes.
/// The registry answers for every platform a pipeline file names, at the line that names it.
@Suite struct PlatformRegistryTests {
    func parse(_ body: String) throws -> PipelineConfig {
        try PlatformRegistry.parse(text: "version: 1\nname: t\nsandbox: embedded\n" + body, file: "p.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
    }

    @Test func unknownAndNotYetBuiltPlatformsAreAnsweredAtTheirLine() throws {
        let typo = #expect(throws: OmniError.self) { _ = try parse("targets:\n  - youtub:main\n") }
        #expect(typo?.code == .configInvalid && typo?.location?.description == "p.yaml:5:5", "\(String(describing: typo?.location))")
        #expect(typo?.message.contains("did you mean 'youtube'?") == true, "\(typo?.message ?? "")")
        let quota = #expect(throws: OmniError.self) { _ = try parse("targets: [youtube:main]\nquotas:\n  youtbe: []\n") }
        #expect(quota?.message.contains("unknown platform 'youtbe' in quotas") == true && quota?.location?.line == 6)
        // Quotas may be written for any platform OmniPost knows, built or not.
        _ = try parse("targets: [youtube:main]\nquotas:\n  reddit: []\n")
    }

    /// A Threads target without `media_host:` is answered at its line (what `omnipost check` prints); in
    /// sandbox mode the sandbox's own S3 is the media host.
    @Test func aPlatformThatFetchesFromAURLNeedsAMediaHost() throws {
        let accounts = "accounts:\n  threads:main: {client_id: c, client_secret: s, refresh_token: r}\n"
        let missing = #expect(throws: OmniError.self) {
            _ = try PlatformRegistry.parse(
                text: "version: 1\nname: t\ntargets:\n  - youtube:main\n  - threads:main\n" + accounts
                    + "  youtube:main: {client_id: c, client_secret: s, refresh_token: r}\n",
                file: "p.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
        }
        #expect(missing?.location?.description == "p.yaml:5:5" && missing?.message.contains("needs `media_host:`") == true, "\(missing?.message ?? "")")
        let named = try PlatformRegistry.parse(
            text: """
                version: 1
                name: t
                targets: [threads:main]
                \(accounts)media_host:
                  s3: {endpoint: "https://s3.example.com", bucket: b, access_key_id: k, secret_access_key: s}
                  link_ttl: 30m
                """, file: "p.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
        #expect(named.mediaHost?.s3?.bucket == "b" && named.mediaHost?.linkTTL == .seconds(1800) && named.mediaHost?.s3?.region == "us-east-1")
        #expect(try parse("targets: [threads:main]\n").mediaHost?.s3?.bucket == "omnipost-media")
        let short = #expect(throws: OmniError.self) {
            _ = try parse("targets: [threads:main]\nmedia_host: {s3: {bucket: b}, link_ttl: 5s}\n")
        }
        #expect(short?.message.contains("link_ttl must be 1m–7d") == true)
    }

    @Test func accountsGetTheirPlatformsOwnEndpointsUnlessTheFileNamesOthers() throws {
        let c = try parse(
            """
            targets: [youtube:main, tiktok:main]
            accounts:
              tiktok:main: {client_id: k, client_secret: s, refresh_token: r, endpoint: "http://127.0.0.1:9"}
            """)
        #expect(c.accounts["youtube:main"]?.endpoint == "https://www.googleapis.com")
        #expect(c.accounts["youtube:main"]?.tokenURL == "https://oauth2.googleapis.com/token")
        #expect(c.accounts["tiktok:main"]?.endpoint == "http://127.0.0.1:9")
        #expect(c.accounts["tiktok:main"]?.tokenURL == "https://open.tiktokapis.com/v2/oauth/token/")
    }

    /// Every registered platform has a profile, and the bundled sandbox serves its token endpoint.
    @Test func everyPlatformIsWholeProfileAndSandboxIncluded() async throws {
        let profiles = try ProfileCatalog.bundled()
        let dir = try TempDir()
        let sandbox = SandboxServer(root: dir.url)
        try await sandbox.start()
        for module in PlatformRegistry.platforms {
            let d = module.descriptor
            // A destination stores any clip (the `any` profile); it has no account to authorize.
            guard let oauth = d.oauth, oauth.refreshStyle != .lasting else {
                #expect(profiles[d.defaultProfile] != nil, "\(d.name): no profile \(d.defaultProfile)")
                continue
            }
            #expect(profiles[d.defaultProfile]?.platform == d.name, "\(d.name): no profile \(d.defaultProfile)")
            await sandbox.registerAccount(platform: d.name, name: "main", clientID: "c", clientSecret: "s", refreshToken: "r-\(d.name)")
            // The refresh as the daemon makes it: the descriptor's client field and client authentication.
            let account = AccountConfig(
                key: "\(d.name):main", platform: d.name, clientID: "c", clientSecret: "s", refreshToken: "r-\(d.name)",
                endpoint: sandbox.baseURL, tokenURL: sandbox.baseURL + d.sandboxTokenPath)
            let store = MemoryTokenStore()
            let token = try await TokenProvider(account: account, http: HTTPClient.shared, store: store).accessToken()
            #expect(!token.isEmpty, "\(d.name)")
            #expect((store.refreshToken != "r-\(d.name)") == oauth.rotatesRefreshTokens, "\(d.name): rotation as the descriptor says")
        }
        await sandbox.stop()
    }

    /// The sandbox's platforms are found from the registry's line alone: every platform whose sandboxed
    /// account points at the sandbox has a side there, and each side is served once however many platforms
    /// share it (Instagram and Facebook share the Graph API's `meta`).
    @Test func everyPlatformThatSpeaksToTheSandboxHasASideThere() throws {
        let dir = try TempDir()
        var served: [String] = []
        for module in PlatformRegistry.platforms {
            let d = module.descriptor
            var account = AccountConfig(key: "\(d.name):main", platform: d.name, clientID: "", clientSecret: "", refreshToken: "", endpoint: "", tokenURL: "")
            _ = module.useSandbox(&account, base: "http://127.0.0.1:1", root: dir.url)
            let sides = SandboxPlatforms.names(for: module)
            if account.endpoint == "http://127.0.0.1:1" {
                #expect(!sides.isEmpty, "\(d.name) points its account at the sandbox, which has no side for it")
            }
            served += sides
        }
        var once = Set<String>()
        #expect(SandboxPlatforms.names == served.filter { once.insert($0).inserted })
        #expect(Set(SandboxPlatforms.names).isSuperset(of: ["meta", "instagram", "facebook", "threads", "youtube", "webhook", "tus", "s3"]))
    }

    /// The README's platform table has one row per registered platform, saying what its descriptor says.
    @Test func theReadmeTableMatchesTheRegistry() throws {
        let readme = try String(contentsOf: PipelineConfigTests.repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        for module in PlatformRegistry.platforms {
            let d = module.descriptor, c = d.capabilities
            let row =
                "| \(d.displayName) | `\(d.name)` | \(c.upload) | \(c.nativeScheduling ? "yes" : "no") | \(c.covers) | \(c.reconcile) | \(c.quotas) | \(d.accountFields.joined(separator: ", ")) |"
            #expect(readme.contains(row), "README lacks or differs from: \(row)")
        }
    }
}

/// A pipeline that cannot open (here: a credentials key file that holds no key) is answered with its
/// error — the HTTP client and the sandbox it had started are closed, never freed open (which traps).
@Suite struct PipelineOpenFailureTests {
    @Test func aBadKeyFileIsAnErrorNotATrap() async throws {
        let dir = try TempDir()
        try dir.write("bad.key", "not a key\n")
        chmod(dir.file("bad.key").path, 0o600)
        let config = try TestPipelines.config(root: dir.url.appendingPathComponent("p"), extra: "credentials: {key_file: \(dir.file("bad.key").path)}")
        for _ in 0..<3 {
            let e = await #expect(throws: OmniError.self) { _ = try await Pipeline.open(config: config, logger: TestPipelines.logger, embedding: TestPipelines.embedding) }
            #expect(e?.message.contains("does not hold a base64 32-byte key") == true, "\(e?.message ?? "")")
        }
    }
}
