import ArgumentParser
import Foundation
import OmniPostCore
import OmniPostPlatforms
import OmniPostLedger
import OmniPostPipeline

struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts", abstract: "List a pipeline's accounts and their stored credentials, or store a new refresh token.",
        subcommands: [List.self, SetToken.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Accounts, credential state, breaker and failed deliveries.")
        @Argument(help: "Pipeline file.") var pipeline: String

        func run() async throws {
            let config = try PlatformRegistry.load(path: pipeline)
            let ledger = try Ledger(path: config.paths.ledger.path)
            let stored = Dictionary(uniqueKeysWithValues: try ledger.tokenSummaries().map { ($0.account, $0) })
            let breakers = Dictionary(uniqueKeysWithValues: try ledger.breakers().map { ($0.account, $0) })
            let deliveries = try ledger.allDeliveries()
            for key in config.accounts.keys.sorted() {
                let a = config.accounts[key]!
                let t = stored[key]
                var parts = [key, a.endpoint]
                parts.append(t?.hasRefreshToken == true ? "refresh token stored\(t!.sealed ? " (sealed)" : "")" : "no stored token (seeded from the pipeline file at the next run)")
                if let e = t?.accessExpiresAt { parts.append("access token until \(isoStamp(e))") }
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
        @Argument(help: "Pipeline file.") var pipeline: String
        @Argument(help: "Account, platform:name (e.g. youtube:main).") var account: String
        @Argument(help: "The refresh token, or - to read it from standard input (keeps it out of shell history).") var token: String

        func run() async throws {
            let config = try PlatformRegistry.load(path: pipeline)
            guard config.accounts[account] != nil else {
                var msg = "pipeline \(config.name) has no account '\(account)'"
                if let g = DidYouMean.suggest(account, among: Array(config.accounts.keys)) { msg += "; did you mean '\(g)'?" }
                throw ValidationError(msg)
            }
            var value = token
            if token == "-" { value = (readLine(strippingNewline: true) ?? "").trimmingCharacters(in: .whitespaces) }
            guard !value.isEmpty else { throw ValidationError("the refresh token is empty") }
            try config.paths.createAll()
            let sealer = try Sealer.load(file: config.credentials.keyFile ?? config.paths.root.appendingPathComponent("secret.key"),
                                         env: config.credentials.keyEnv)
            let ledger = try Ledger(path: config.paths.ledger.path)
            try ledger.replaceRefreshToken(account: account, refreshToken: try sealer.seal(value))
            print("stored a new refresh token for \(account) (sealed); `omnipost retry` the drops that failed with auth_revoked")
        }
    }
}
