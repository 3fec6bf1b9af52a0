import ArgumentParser
import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostEmbedded
import OmniPostPlatforms
import OmniPostLedger
import OmniPostPipeline

struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts", abstract: "Connect, check, list and remove a pipeline's accounts; their credentials are sealed in the ledger.",
        subcommands: [List.self, Add.self, Check.self, Remove.self, Rekey.self, SetToken.self, ImportCookies.self], defaultSubcommand: List.self)

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Connect an account: OAuth with PKCE; prints the consent address and waits for the browser's redirect on 127.0.0.1.")
        @OptionGroup var target: AccountArguments
        @Flag(help: "No browser on this machine: open the address anywhere, then paste the address the browser was sent to.") var manual = false
        @Flag(help: "Sign in on another device with a short code (where the platform offers it: Google).") var device = false
        @Option(help: "Seconds to wait for the redirect.") var timeout: Int = 300

        func run() async throws {
            let (config, account) = (try target.pipelineConfig(), target.account)
            let connector = AccountConnector(config: config, key: account, http: HTTPClient.shared, embedding: EmbeddedSandbox())
            if manual && device { throw ValidationError("--manual and --device are two ways in; pick one") }
            let mode: AccountConnector.Mode = device ? .device() : manual ? .manual(read: { readLine(strippingNewline: true) }) : .loopback(timeout: .seconds(timeout))
            let who = try await connector.connect(mode: mode) {
                print($0); fflush(nil)
            }
            // A browser login said what it sealed (cookies) already.
            if BrowserLogin.applies(to: try config.account(account)) { return }
            print("connected \(account)\(who.map { " as \($0.name) (\($0.id))" } ?? ""); its tokens are sealed in the ledger")
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Refresh each account's token and ask who it is; exits 1 when an account could not publish.")
        @Argument(help: "Pipeline file.") var pipeline: String
        @Argument(help: "Accounts to check (default: all).") var accounts: [String] = []
        @Flag(help: "One JSON document.") var json = false

        func run() async throws {
            let config = try PlatformRegistry.load(path: pipeline)
            let results = try await AccountHealth.check(config: config, only: accounts, http: HTTPClient.shared, embedding: EmbeddedSandbox())
            if json {
                let e = JSONEncoder()
                e.outputFormatting = [.prettyPrinted, .sortedKeys]
                let data = try e.encode(results)
                print(String(decoding: data, as: UTF8.self))
            } else {
                for r in results {
                    var parts = [r.account, r.ok ? "ok" : "FAILED"]
                    if let n = r.identity { parts.append(n) }
                    if let e = r.accessExpiresAt { parts.append("access token until \(isoStamp(e))") }
                    if let e = r.refreshExpiresAt { parts.append("refresh token until \(isoStamp(e))") }
                    if let s = r.scopes { parts.append("scopes: \(s.joined(separator: " "))") }
                    if let q = r.quota { parts.append(q) }
                    if let e = r.error { parts.append(e) }
                    print(parts.joined(separator: "  "))
                }
            }
            if results.contains(where: { !$0.ok }) { throw ExitCode(1) }
        }
    }

    struct Rekey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rekey",
            abstract: "Re-seal every stored credential under a new key; the old key stays in the file until --forget-old.")
        @Argument(help: "Pipeline file.") var pipeline: String
        @Flag(help: "Leave only the current key in the file (re-sealing anything still under an older one first).") var forgetOld = false

        func run() async throws {
            let config = try PlatformRegistry.load(path: pipeline)
            let r = try OmniPostPipeline.Rekey.run(config: config, forgetOld: forgetOld)
            print(
                forgetOld
                    ? "the key file holds only the current key; \(r.resealed) value(s) checked"
                    : "re-sealed \(r.resealed) value(s) under a new key; the key file holds it first and \(r.keysInFile - 1) older one(s) after it. A running daemon picks it up by itself; run `accounts rekey --forget-old` when you want the old key gone"
            )
        }
    }

    struct ImportCookies: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-cookies",
            abstract: "Store a browser session's cookies for an account (cookies.txt or a browser extension's JSON export), sealed in the ledger.")
        @OptionGroup var target: AccountArguments
        @Argument(help: "cookies.txt (Netscape format) or a JSON export.") var file: String

        func run() async throws {
            let (config, account) = (try target.pipelineConfig(), target.account)
            let summary = try CookieImport.run(config: config, account: account, file: file)
            print(
                "stored \(summary.cookies) cookie(s) for \(account) (\(summary.domains)), sealed"
                    + (summary.expiresAt.map { "; the first lapses on \(isoStamp($0))" } ?? "; session cookies only"))
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Forget an account's stored credentials (the pipeline file is not changed).")
        @OptionGroup var target: AccountArguments

        func run() async throws {
            // A typo is named as one, not answered "had no stored credentials".
            let (config, account) = (try target.pipelineConfig(naming: true), target.account)
            let ledger = try Ledger.open(config)
            print(try ledger.removeToken(account: account) ? "removed the stored credentials of \(account)" : "\(account) had no stored credentials")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Accounts, credential state, breaker and failed deliveries.")
        @Argument(help: "Pipeline file.") var pipeline: String

        func run() async throws {
            let config = try PlatformRegistry.load(path: pipeline)
            let ledger = try Ledger.open(config)
            let stored = Dictionary(uniqueKeysWithValues: try ledger.tokenSummaries().map { ($0.account, $0) })
            let breakers = Dictionary(uniqueKeysWithValues: try ledger.breakers().map { ($0.account, $0) })
            let deliveries = try ledger.allDeliveries()
            let jars = Dictionary(uniqueKeysWithValues: try ledger.cookieJars().map { ($0.account, $0) })
            for key in config.accounts.keys.sorted() {
                let a = config.accounts[key]!
                let t = stored[key]
                var parts = [key, a.endpoint]
                parts.append(t?.hasRefreshToken == true ? "refresh token stored\(t!.sealed ? " (sealed)" : "")" : "no stored token (seeded from the pipeline file at the next run)")
                if let e = t?.accessExpiresAt { parts.append("access token until \(isoStamp(e))") }
                if let e = t?.refreshExpiresAt { parts.append("refresh token until \(isoStamp(e))") }
                if let c = t?.checkedAt { parts.append("checked \(isoStamp(c)): \(t?.checkOK == true ? "ok" : "FAILED — \(t?.checkDetail ?? "")")") }
                if let j = jars[key] { parts.append("\(j.cookies) cookie(s) for \(j.domains)" + (j.expiresAt.map { " until \(isoStamp($0))" } ?? "")) }
                parts.append("breaker \(breakers[key]?.state.rawValue ?? "closed")")
                let mine = deliveries.filter { $0.accountKey == key }
                let revoked = mine.filter { $0.state == .failed && $0.errorCode == ReasonCode.authRevoked.rawValue }.count
                parts.append("\(mine.filter { $0.state == .published }.count) published, \(mine.filter { !$0.state.isTerminal }.count) queued")
                if revoked > 0 { parts.append("\(revoked) failed with auth_revoked: run `omnipost accounts set-token \(pipeline) \(key) -`") }
                print(parts.joined(separator: "  "))
            }
        }
    }

    struct SetToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-token",
            abstract: "Store a new refresh token for an account (after authorizing it again), sealed in the ledger.")
        @OptionGroup var target: AccountArguments
        @Argument(help: "- : the refresh token is read from standard input (an argument would show in `ps` and shell history).") var token: String

        func run() async throws {
            let (config, account) = (try target.pipelineConfig(naming: true), target.account)
            guard token == "-" else {
                throw ValidationError(
                    "give - and the token on standard input (`omnipost accounts set-token \(target.pipeline) \(account) - < token.txt`): a token as an argument shows in `ps` and shell history"
                )
            }
            let value = (readLine(strippingNewline: true) ?? "").trimmingCharacters(in: .whitespaces)
            guard !value.isEmpty else { throw ValidationError("the refresh token is empty") }
            try config.paths.createAll()
            let sealer = try Sealer.load(
                file: config.credentials.keyFile ?? config.paths.root.appendingPathComponent("secret.key"),
                env: config.credentials.keyEnv)
            let ledger = try Ledger.open(config)
            try ledger.replaceRefreshToken(account: account, refreshToken: try sealer.seal(value))
            print("stored a new refresh token for \(account) (sealed); `omnipost retry` the drops that failed with auth_revoked")
        }
    }
}

/// The pipeline file and one of its accounts, as the `accounts` subcommands about one account take them.
struct AccountArguments: ParsableArguments {
    @Argument(help: "Pipeline file.") var pipeline: String
    @Argument(help: "Account, platform:name (e.g. youtube:main).") var account: String

    /// The pipeline; `naming`: the account must be one of its own (a typo is named as one, with the accounts it has).
    func pipelineConfig(naming: Bool = false) throws -> PipelineConfig {
        let config = try PlatformRegistry.load(path: pipeline)
        if naming { do { _ = try config.account(account) } catch let e as OmniError { throw ValidationError(e.message) } }
        return config
    }
}
