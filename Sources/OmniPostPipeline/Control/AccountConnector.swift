import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms
import ServiceLifecycle

/// `omnipost accounts add`: the authorization-code flow with PKCE, its redirect caught on a loopback
/// port of its own (RFC 8252) or pasted by a person (`--manual`), then the code exchanged, the granted
/// scopes checked against what publishing needs, the identity read, and the tokens sealed in the
/// ledger — only after all of that succeeded. Nothing secret is printed or put in a process argument.
package struct AccountConnector: Sendable {
    package enum Mode: Sendable {
        /// Wait for the browser's redirect on 127.0.0.1 (a free port), up to `timeout`.
        case loopback(timeout: Duration)
        /// A person pastes the address the browser was sent to (or the code).
        case manual(read: @Sendable () async -> String?)
        /// The device grant (RFC 8628): a code to enter on any other device; polled until approved.
        case device(slowDownStep: Double = 5)
    }

    package let config: PipelineConfig
    package let key: String
    let http: HTTPClient
    /// What provides the embedded sandbox in sandbox mode (see `PlatformEmbedding`).
    let embedding: (any PlatformEmbedding)?
    /// `config`'s accounts already point at the embedded sandbox (see `connect`).
    let attached: Bool

    package init(config: PipelineConfig, key: String, http: HTTPClient, embedding: (any PlatformEmbedding)? = nil) {
        self.init(config: config, key: key, http: http, embedding: embedding, attached: false)
    }

    init(config: PipelineConfig, key: String, http: HTTPClient, embedding: (any PlatformEmbedding)?, attached: Bool) {
        self.config = config
        self.key = key
        self.http = http
        self.embedding = embedding
        self.attached = attached
    }

    /// Runs the flow; `say` gets what a person must read (the consent URL, what happened). In sandbox
    /// mode the whole flow is the sandbox's — its consent page, its token endpoint, the daemon's running
    /// sandbox or one started for it — never the real platform's with the sandbox's made-up client.
    package func connect(mode: Mode, say: @escaping @Sendable (String) -> Void) async throws -> AccountIdentity? {
        if !attached, let embedding = try config.embedding(embedding) {
            var wired = config
            let own = try await embedding.attach(&wired, http: http)
            do {
                let who = try await AccountConnector(config: wired, key: key, http: http, embedding: embedding, attached: true).connect(mode: mode, say: say)
                await own?.stop()
                return who
            } catch {
                await own?.stop()
                throw error
            }
        }
        let account = try config.account(key)
        // A platform driven through its pages signs in by QR code, not OAuth (docs/recipes.md).
        if BrowserLogin.applies(to: account) {
            let wait: Duration = if case .loopback(let t) = mode { t } else { .seconds(300) }
            let n = try await BrowserLogin.connect(config: config, account: account, timeout: wait, say: say)
            say("\(key): logged in; \(n) cookie(s) sealed in the ledger")
            return nil
        }
        guard let connect = OAuthConnect(account: account, http: http) else {
            throw OmniError(
                .configInvalid,
                "\(key): \(PlatformRegistry.descriptor(account.platform)?.displayName ?? account.platform) accounts do not authorize with OAuth; their settings go under accounts: \(key) (\(PlatformRegistry.descriptor(account.platform)?.accountFields.joined(separator: ", ") ?? ""))"
            )
        }
        if account.clientID.isEmpty || account.clientSecret.isEmpty {
            throw OmniError(
                .configInvalid,
                "\(key) needs its app's client: client_id and client_secret under accounts: \(key), `client_secrets_file:` (Google's client_secret.json), or \(AccountConfig.environmentName(key, "CLIENT_ID")) and \(AccountConfig.environmentName(key, "CLIENT_SECRET")) in the environment"
            )
        }
        let grant: OAuthConnect.Grant
        if case .device(let step) = mode {
            guard connect.offersDevice else {
                throw OmniError(
                    .configInvalid,
                    "\(key): \(PlatformRegistry.descriptor(account.platform)?.displayName ?? account.platform) offers no device sign-in; use --manual (open the address on any device and paste where it sends you)"
                )
            }
            let d = try await connect.startDevice()
            say("On any device, open \(d.verificationURL) and enter the code\n\n  \(d.userCode)\n\n(valid \(Int(d.expiresIn / 60)) min). Waiting for the approval …")
            grant = try await connect.pollDevice(d, slowDownStep: step)
        } else {
            grant = try await codeGrant(connect, mode: mode, say: say)
        }
        return try await keep(grant, account: account, connect: connect, say: say)
    }

    /// The authorization-code half: the consent address, the redirect, the code exchanged.
    func codeGrant(_ connect: OAuthConnect, mode: Mode, say: @escaping @Sendable (String) -> Void) async throws -> OAuthConnect.Grant {
        let pkce = OAuthConnect.pkce(), state = OAuthConnect.randomState()
        let reply: [String: String]
        let redirect: String
        switch mode {
        case .device: throw OmniError(.internalError, "the device grant has no redirect")
        case .loopback(let timeout):
            let catcher = try await RedirectCatcher.start()
            defer { Task { await catcher.stop() } }
            redirect = catcher.redirectURI
            say(
                "Open this address in a browser signed in to the account, and allow access:\n\n  \(connect.authorizeURL(redirect: redirect, state: state, challenge: pkce.challenge))\n\nWaiting for the redirect to \(redirect) …"
            )
            guard let r = await catcher.wait(timeout: timeout) else {
                throw OmniError(.authRevoked, "\(key): no redirect came within \(Int(timeout.seconds)) s; nothing was stored. On a machine without a browser, use --manual")
            }
            reply = r
        case .manual(let read):
            redirect = "http://127.0.0.1:1/callback"
            say(
                "Open this address in any browser signed in to the account, and allow access:\n\n  \(connect.authorizeURL(redirect: redirect, state: state, challenge: pkce.challenge))\n\nThe browser then fails to load \(redirect)?… — paste that whole address here:"
            )
            reply = OAuthConnect.parseRedirect(await read() ?? "")
        }
        if let error = reply["error"] {
            throw OmniError(.authRevoked, "\(key): access was not granted (\(error)\(reply["error_description"].map { ": \($0)" } ?? "")); nothing was stored")
        }
        if let s = reply["state"], s != state {
            throw OmniError(.authRevoked, "\(key): the redirect's state does not match this request's (a stale or forged redirect); nothing was stored — run `accounts add` again")
        }
        if case .loopback = mode, reply["state"] == nil {
            throw OmniError(.authRevoked, "\(key): the redirect carried no state; nothing was stored")
        }
        guard let code = reply["code"], !code.isEmpty else { throw OmniError(.authRevoked, "\(key): the redirect carried no code; nothing was stored") }
        return try await connect.exchange(code: code, redirect: redirect, verifier: pkce.verifier)
    }

    /// What every way in ends with: the scopes checked, the tokens sealed, the identity read.
    func keep(_ grant: OAuthConnect.Grant, account: AccountConfig, connect: OAuthConnect, say: @escaping @Sendable (String) -> Void) async throws -> AccountIdentity? {
        var account = account
        // Douyin and Kuaishou name the user by the grant's open_id, which their calls then carry: shown,
        // so it can go under `id:`, and used for reading who the account is now.
        if let open = grant.openID, !open.isEmpty {
            let hint =
                account.accountID.isEmpty
                ? "; set `id: \(open)` under accounts: \(key)" : account.accountID == open ? "" : "; accounts: \(key) says id: \(account.accountID) — set it to \(open)"
            say("The grant names the user open_id \(open)\(hint).")
            if account.accountID.isEmpty { account.accountID = open }
        }
        let missing = connect.missingScopes(grant)
        if !missing.isEmpty {
            throw OmniError(
                .authRevoked,
                "\(key): the grant lacks what publishing needs — \(missing.joined(separator: ", ")); nothing was stored. Run `accounts add` again and leave every permission ticked"
            )
        }
        // A token that lasts (Vimeo) needs no refresh token; every other grant must bring one.
        let lasting = connect.oauth.refreshStyle == .lasting
        let refresh = grant.refreshToken ?? ""
        if !lasting && refresh.isEmpty {
            throw OmniError(.authRevoked, "\(key): the platform granted no refresh token (offline access), so the daemon could not go on alone; nothing was stored")
        }
        // Sealed and stored; then proven by reading who the account is with it.
        try config.paths.createAll()
        let ledger = try Ledger.open(config)
        let store = LedgerTokenStore(ledger: ledger, keys: KeyRing(config: config))
        try await store.save(
            account: key, accessToken: grant.accessToken, expiresAt: lasting ? .distantFuture : Date().addingTimeInterval(grant.expiresIn),
            refreshToken: lasting ? nil : refresh)
        if let life = grant.refreshExpiresIn { try await store.saveRefreshExpiry(account: key, at: Date().addingTimeInterval(life)) }
        if let scopes = grant.scopes { try await store.saveScope(account: key, scope: scopes.joined(separator: " ")) }
        // A new grant may bring the insights permission an earlier one lacked: its numbers are asked for again.
        try ledger.forgetInsightRefusal(account: key)
        let settings = AdapterSettings(account: account, tokens: TokenProvider(account: account, http: http, store: store), http: http, uploads: http, chunkSize: 1 << 20)
        let module = PlatformRegistry.module(account.platform)
        // Where the grant reaches several (a user's Pages, their Instagram accounts), `id:` chooses.
        let choices = (try? await module?.choices(settings)) ?? []
        if choices.count > 1 {
            say(
                "The grant reaches \(choices.count): \(choices.map { "\($0.id) (\($0.name))" }.joined(separator: ", ")). "
                    + (account.accountID.isEmpty ? "The first is used; set `id:` under accounts: \(key) to choose another." : "`id: \(account.accountID)` chooses."))
        }
        return try await module?.whoAmI(settings)
    }
}

/// A one-shot loopback listener for the OAuth redirect: the first request to `/callback` is the answer.
final class RedirectCatcher: Sendable {
    let redirectURI: String
    let box: ReplyBox
    let group: ServiceGroup
    let task: Task<Void, any Error>

    init(redirectURI: String, box: ReplyBox, group: ServiceGroup, task: Task<Void, any Error>) {
        self.redirectURI = redirectURI
        self.box = box
        self.group = group
        self.task = task
    }

    final class ReplyBox: @unchecked Sendable {
        private let lock = NSLock()
        private var reply: [String: String]?
        func set(_ r: [String: String]) { lock.lock(); if reply == nil { reply = r }; lock.unlock() }
        var value: [String: String]? { lock.lock(); defer { lock.unlock() }; return reply }
    }

    static func start() async throws -> RedirectCatcher {
        var logger = Logger(label: "omnipost.oauth-redirect")
        logger.logLevel = .warning
        let box = ReplyBox(), port = BoundPort()
        let router = Router()
        router.get("/callback") { req, _ -> Response in
            var q: [String: String] = [:]
            for (k, v) in req.uri.queryParameters { q[String(k)] = String(v) }
            box.set(q)
            let ok = q["error"] == nil
            let page =
                "<!doctype html><meta charset=utf-8><title>OmniPost</title><p>\(ok ? "OmniPost has the answer; you can close this tab." : "Access was not granted; OmniPost said why in the terminal.")</p>"
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: .init(string: page)))
        }
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "omnipost"),
            onServerRunning: { ch in port.set(ch.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        for _ in 0..<500 {
            if let p = port.value { return RedirectCatcher(redirectURI: "http://127.0.0.1:\(p)/callback", box: box, group: group, task: task) }
            try await Task.sleep(for: .milliseconds(10))
        }
        await group.triggerGracefulShutdown()
        throw OmniError(.internalError, "no loopback port could be opened for the redirect; use --manual")
    }

    func wait(timeout: Duration) async -> [String: String]? {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if let r = box.value { return r }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
