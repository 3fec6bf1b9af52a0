import ArgumentParser
import Foundation
import OmniPostCore
import OmniPostPipeline
import OmniPostPlatforms

/// `omnipost ledger migrate <pipeline> --to postgres://…`: the pipeline's SQLite ledger copied into a
/// PostgreSQL ledger several hosts can share (docs/several-hosts.md).
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "The ledger itself: copy a pipeline's SQLite ledger into a shared PostgreSQL one.", subcommands: [Migrate.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate",
            abstract: "Copy the pipeline's SQLite ledger into an empty PostgreSQL ledger; every table's rows counted on both sides.",
            discussion: """
                Stop the daemon first: what it writes after the copy began is not copied. Tokens and cookie jars \
                are copied sealed (keep the pipeline's key: every host needs the same one). The copy is one \
                transaction: a failure leaves the database as it was. The SQLite file is not changed.
                """)
        @Argument(help: "Pipeline file.") var pipeline: String
        @Option(name: .long, help: "The PostgreSQL ledger: postgres://user@host:port/database.") var to: String
        @Option(name: .long, help: "A file holding the database password.") var passwordFile: String?
        @Option(name: .long, help: "An environment variable holding the database password.") var passwordEnv: String?
        @Option(name: .long, help: "disable, require or verify-full.") var tls: String = "disable"
        @Option(name: .long, help: "verify-full: the CA that signed the server's certificate.") var caFile: String?

        func run() async throws {
            do {
                let config = try PlatformRegistry.load(path: pipeline)
                var target = try PostgresLedgerConfig.parse(url: to)
                target.passwordFile = passwordFile.map { URL(fileURLWithPath: $0) }
                target.passwordEnv = passwordEnv
                guard let mode = PostgresLedgerConfig.TLSMode(rawValue: tls) else {
                    throw ValidationError("--tls: '\(tls)' is not one of disable, require, verify-full")
                }
                target.tls = mode
                target.caFile = caFile.map { URL(fileURLWithPath: $0) }
                let copied = try SharedLedgerMigration.copy(config, to: target)
                for t in copied { print("  \(t.table.padding(toLength: 14, withPad: " ", startingAt: 0)) \(t.rows) rows") }
                print("copied \(copied.reduce(0) { $0 + $1.rows }) rows into \(target.display); counts match on both sides")
            } catch let e as OmniError {
                FileHandleOutput.stderr("\(e)")
                throw ExitCode(2)
            }
        }
    }
}
