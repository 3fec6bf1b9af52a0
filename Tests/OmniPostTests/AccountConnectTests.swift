import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostLedger
@testable import OmniPostPipeline
@testable import OmniPostPlatforms
@testable import OmniPostSandbox
import Testing

/// `omnipost accounts add` end to end over real HTTP on loopback: the consent page (the sandbox's),
/// the redirect caught on a port of our own or pasted, the code exchanged with its PKCE verifier, the
/// scopes checked, the identity read, the tokens sealed — and every way it can go wrong stores nothing.
@Suite struct AccountConnectTests {
    static let platforms = ["youtube", "tiktok", "x", "linkedin", "reddit", "instagram", "facebook", "threads", "vimeo"]

    /// A sandbox that knows each platform's app (client), and a pipeline whose accounts name only the client.
    static func rig(_ dir: TempDir, tokenURL: ((String, SandboxServer) -> String)? = nil) async throws -> (SandboxServer, PipelineConfig) {
        let s = SandboxServer(root: dir.file("sandbox"))
        try TestTLS.seed(dir.file("sandbox"))
        try await s.start(tls: true)
        var accounts = ""
        for p in platforms {
            let d = try #require(PlatformRegistry.descriptor(p))
            await s.registerAccount(platform: p, name: "console", clientID: "cid-\(p)", clientSecret: "sec-\(p)", refreshToken: "console-\(p)")
            let token = tokenURL?(p, s) ?? s.baseURL + d.sandboxTokenPath
            accounts +=
                "  \(p):main: {client_id: cid-\(p), client_secret: sec-\(p), endpoint: \"\(s.baseURL)\", token_url: \"\(token)\", authorize_url: \"\(s.baseURL)/sandbox/oauth/\(p)/authorize\"}\n"
        }
        // Threads fetches media from a URL: the pipeline names a media host (the daemon's own, here).
        let text =
            "version: 1\nroot: \(dir.url.path)/p\nhttp: {listen: \"127.0.0.1:0\", public_url: \"http://127.0.0.1:1\"}\nmedia_host: {serve: true}\n"
            + "targets: [\(platforms.map { "\($0):main" }.joined(separator: ", "))]\naccounts:\n" + accounts
        var config = try PlatformRegistry.parse(
            text: text.replacingOccurrences(of: "reddit:main: {", with: "reddit:main: {subreddit: videos, "), file: "p.yaml", baseDirectory: dir.url)
        config.upload.caFile = s.caFile
        return (s, config)
    }

    /// Lines a person is shown, and the consent address among them.
    final class Said: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func add(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
        var text: String { lock.lock(); defer { lock.unlock() }; return lines.joined(separator: "\n") }
        /// The consent address in the last thing said.
        var consentURL: String? {
            lock.lock(); defer { lock.unlock() }
            return Said.url(in: lines.last ?? "")
        }
        static func url(in line: String) -> String? {
            line.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.hasPrefix("http") && $0.contains("/authorize?") }
        }
    }

    /// The person's browser: opens the consent address and follows the redirect to our loopback port.
    static func browse(_ url: String) async throws {
        _ = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
    }

    static func connect(_ config: PipelineConfig, _ key: String, said: Said = Said()) async throws -> AccountIdentity? {
        let c = AccountConnector(config: config, key: key, http: TestTLS.client, embedding: TestPipelines.embedding)
        return try await c.connect(mode: .loopback(timeout: .seconds(20))) { line in
            said.add(line)
            if let url = Said.url(in: line) { Task { try? await browse(url) } }
        }
    }

    @Test(.timeLimit(.minutes(2))) func everyOAuthPlatformConnectsThroughALoopbackRedirect() async throws {
        let dir = try TempDir()
        let (s, config) = try await Self.rig(dir)
        try await stopping(s) {
            let said = Said()
            var names: [String: String] = [:]
            for p in Self.platforms {
                let who = try await Self.connect(config, "\(p):main", said: said)
                #expect(who?.name.isEmpty == false, "\(p)")
                names[p] = who?.name
            }
            // Meta and Threads: the code's short-lived token exchanged at once for a long-lived one, which is kept;
            // Instagram's account found through the Page it is linked to.
            let exchanges = await s.state.requestCounts
            #expect((exchanges["meta.token"] ?? 0) >= 2 && exchanges["threads.exchange"] == 1, "\(exchanges)")
            #expect(names["instagram"] == "@sandbox-user" && names["threads"] == "@sandbox-user" && names["x"] == "@sandbox-user", "\(names)")
            let counts = await s.state.requestCounts
            #expect(counts["oauth.authorize"] == Self.platforms.count && counts["oauth.code"] == Self.platforms.count, "\(counts)")
            // Sealed in the ledger; never shown.
            let ledger = try Ledger(path: config.paths.ledger.path)
            let sealer = try Pipeline.sealer(config)
            for p in Self.platforms {
                let t = try #require(try ledger.token(account: "\(p):main"))
                // Vimeo's token does not expire and comes alone; every other grant brings a refresh token.
                #expect((p == "vimeo" ? t.refreshToken == nil : t.refreshToken?.hasPrefix("sealed:v1:") == true) && t.accessToken?.hasPrefix("sealed:v1:") == true, "\(p)")
                let refresh = try t.refreshToken.map(sealer.open), access = try sealer.open(try #require(t.accessToken))
                #expect(!said.text.contains(access) && !(refresh.map(said.text.contains) ?? false), "\(p): a token was shown")
            }
            // The consent asked for what publishing needs, with PKCE and each platform's own parameters.
            #expect(said.text.contains("access_type=offline") && said.text.contains("prompt=consent") && said.text.contains("duration=permanent"))
            #expect(said.text.contains("code_challenge_method=S256") && said.text.contains("client_key=cid-tiktok") && said.text.contains("scope=user.info.basic%2Cvideo.publish"))
            // `accounts check`: a refresh now and who each is.
            let health = try await AccountHealth.check(config: config, http: TestTLS.client, embedding: TestPipelines.embedding)
            #expect(health.count == Self.platforms.count && health.allSatisfy { $0.ok && $0.identity != nil }, "\(health)")
            // With the scopes the refresh named, and what is left of the platform's own quota where it can be read.
            let byKey = Dictionary(uniqueKeysWithValues: health.map { ($0.account, $0) })
            #expect(byKey["x:main"]?.scopes?.contains("tweet.write") == true, "\(String(describing: byKey["x:main"]))")
            #expect(
                byKey["instagram:main"]?.quota?.contains("posts left in 24 h") == true && byKey["threads:main"]?.quota?.contains("posts left in 24 h") == true,
                "\(String(describing: byKey["instagram:main"]?.quota)) \(String(describing: byKey["threads:main"]?.quota))")
            #expect(byKey["tiktok:main"]?.refreshExpiresAt != nil && byKey["instagram:main"]?.refreshExpiresAt != nil)
            // The daemon uses what was connected: a post to X with the connected account.
            let account = try #require(config.accounts["x:main"])
            let tokens = TokenProvider(account: account, http: TestTLS.client, store: LedgerTokenStore(ledger: ledger, sealer: sealer))
            #expect(try await XPlatform.whoAmI(AdapterSettings(account: account, tokens: tokens, http: TestTLS.client, chunkSize: 1 << 20))?.name == "@sandbox-user")
        }
    }

    @Test(.timeLimit(.minutes(2))) func whatGoesWrongStoresNothingAndSaysWhy() async throws {
        let dir = try TempDir()
        let (s, config) = try await Self.rig(dir)
        try await stopping(s) {
            try config.paths.createAll()
            func stored(_ key: String) throws -> Bool { try Ledger(path: config.paths.ledger.path).token(account: key) != nil }
            // Denied at the consent page.
            await s.state.setConsent(platform: "youtube", .deny)
            let denied = await #expect(throws: OmniError.self) { _ = try await Self.connect(config, "youtube:main") }
            #expect(denied?.message.contains("access_denied") == true && denied?.message.contains("nothing was stored") == true)
            // A permission unticked: the missing scope is named.
            await s.state.setConsent(platform: "tiktok", .grant(user: "me", scopes: ["user.info.basic"]))
            let scope = await #expect(throws: OmniError.self) { _ = try await Self.connect(config, "tiktok:main") }
            #expect(scope?.message.contains("video.publish") == true, "\(String(describing: scope))")
            #expect(try !stored("youtube:main") && !stored("tiktok:main"))

            // Pasted (--manual): the "browser" opens the address and reads where it was sent.
            let browser = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
            try await stopping(browser) {
                let consent = Said()
                let location = LocationBox()
                func manual(_ key: String, paste: @escaping @Sendable (String) -> String) async throws -> AccountIdentity? {
                    try await AccountConnector(config: config, key: key, http: TestTLS.client, embedding: TestPipelines.embedding).connect(
                        mode: .manual(read: {
                            if let url = consent.consentURL, let r = try? await browser.execute(HTTPClientRequest(url: url), timeout: .seconds(30)) {
                                location.set(r.headers.first(name: "Location") ?? "")
                            }
                            return paste(location.value)
                        })
                    ) { consent.add($0) }
                }
                _ = try await manual("x:main") { $0 }
                #expect(try stored("x:main"))
                // A redirect from another request (its state differs): refused.
                let forged = await #expect(throws: OmniError.self) { _ = try await manual("linkedin:main") { $0.replacingOccurrences(of: "state=", with: "state=x") } }
                #expect(forged?.message.contains("state does not match") == true)
                // A code used twice: refused, and what it was first exchanged for is revoked.
                let first = location.value
                let code = try #require(OAuthConnect.parseRedirect(first)["code"])
                let replay = await #expect(throws: OmniError.self) {
                    _ = try await AccountConnector(config: config, key: "linkedin:main", http: TestTLS.client, embedding: TestPipelines.embedding).connect(
                        mode: .manual(read: { code })
                    ) { _ in }
                }
                #expect(replay?.message.contains("invalid_grant") == true, "\(String(describing: replay))")
                #expect(try !stored("linkedin:main"))
                // A second add replaces that account's credential and no other's.
                let ledger = try Ledger(path: config.paths.ledger.path)
                _ = try await Self.connect(config, "reddit:main")
                let x1 = try ledger.token(account: "x:main")?.refreshToken, r1 = try ledger.token(account: "reddit:main")?.refreshToken
                _ = try await Self.connect(config, "reddit:main")
                #expect(try ledger.token(account: "x:main")?.refreshToken == x1 && ledger.token(account: "reddit:main")?.refreshToken != r1)
                // The token endpoint down: said, nothing stored.
                let dir2 = try TempDir()
                let (s2, down) = try await Self.rig(dir2) { _, _ in "http://127.0.0.1:9/token" }
                try await stopping(s2) {
                    let e = await #expect(throws: OmniError.self) { _ = try await Self.connect(down, "youtube:main") }
                    #expect(e?.message.contains("could not be reached") == true && e?.message.contains("nothing was stored") == true, "\(String(describing: e))")
                    // A platform that does not sign in with OAuth, and a typo.
                    #expect(await #expect(throws: OmniError.self) { _ = try await Self.connect(config, "youtub:main") }?.message.contains("did you mean 'youtube:main'") == true)
                    // A wrong PKCE verifier, at the sandbox's token endpoint itself.
                    let c2 = await s.state.authorize(
                        platform: "x", clientID: "cid-x", redirect: "http://127.0.0.1:1/cb", scope: "tweet.read", challenge: OAuthConnect.pkce().challenge, method: "S256")
                    guard case .code(let c) = c2 else { Issue.record("no code"); return }
                    guard
                        case .invalidGrant(let why) = await s.state.redeem(
                            code: c, clientID: "cid-x", clientSecret: "sec-x", redirect: "http://127.0.0.1:1/cb", verifier: OAuthConnect.pkce().verifier)
                    else {
                        Issue.record("a wrong verifier was taken"); return
                    }
                    #expect(why.contains("code_verifier"))
                }
            }
        }
    }

    /// The device grant: the code shown, polled at the interval given (slower after `slow_down`),
    /// approved on "another device"; a denied one and one that expires store nothing.
    @Test(.timeLimit(.minutes(2))) func aDeviceCodeIsPolledUntilApprovedAndExpires() async throws {
        let dir = try TempDir()
        let (s, rigConfig) = try await Self.rig(dir)
        try await stopping(s) {
            var config = rigConfig
            config.accounts["youtube:main"]?.deviceURL = s.baseURL + "/device/code"
            try config.paths.createAll()
            await s.state.setDeviceTiming(interval: 1, lifetime: 30)
            await s.state.slowDownNextDevicePolls(1)
            let said = Said()
            let approver = Task {
                // The person types the code in after a few polls.
                try await Task.sleep(for: .milliseconds(2500))
                for code in await s.state.pendingUserCodes() { await s.state.approveDevice(userCode: code, as: "nas-owner") }
            }
            let t0 = Date()
            let who = try await AccountConnector(config: config, key: "youtube:main", http: TestTLS.client, embedding: TestPipelines.embedding).connect(
                mode: .device(slowDownStep: 1)
            ) { said.add($0) }
            _ = await approver.result
            #expect(who?.name == "nas-owner's channel" && said.text.contains("enter the code"), "\(said.text)")
            let polls = await s.state.requestCounts["oauth.device_poll"] ?? 0
            // 1 s apart, 2 s after the slow_down: a handful, not a flood.
            #expect(polls >= 2 && polls <= 6 && Date().timeIntervalSince(t0) >= 2.5, "\(polls) polls")
            #expect(try Ledger(path: config.paths.ledger.path).token(account: "youtube:main") != nil)
            // Denied on the other device.
            let denier = Task {
                try await Task.sleep(for: .milliseconds(1500))
                for code in await s.state.pendingUserCodes() { await s.state.denyDevice(userCode: code) }
            }
            let denied = await #expect(throws: OmniError.self) {
                _ = try await AccountConnector(config: config, key: "youtube:main", http: TestTLS.client, embedding: TestPipelines.embedding).connect(
                    mode: .device(slowDownStep: 1)
                ) { _ in }
            }
            _ = await denier.result
            #expect(denied?.message.contains("access_denied") == true)
            // Never entered: the code expires.
            await s.state.setDeviceTiming(interval: 1, lifetime: 2)
            let expired = await #expect(throws: OmniError.self) {
                _ = try await AccountConnector(config: config, key: "youtube:main", http: TestTLS.client, embedding: TestPipelines.embedding).connect(
                    mode: .device(slowDownStep: 1)
                ) { _ in }
            }
            #expect(expired?.message.contains("expired") == true, "\(String(describing: expired))")
            // A platform without a device grant says how else to connect.
            let none = await #expect(throws: OmniError.self) {
                _ = try await AccountConnector(config: config, key: "x:main", http: TestTLS.client, embedding: TestPipelines.embedding).connect(mode: .device()) { _ in }
            }
            #expect(none?.message.contains("--manual") == true)
        }
    }

    final class LocationBox: @unchecked Sendable {
        private let lock = NSLock()
        private var v = ""
        func set(_ s: String) { lock.lock(); v = s; lock.unlock() }
        var value: String { lock.lock(); defer { lock.unlock() }; return v }
    }
}
