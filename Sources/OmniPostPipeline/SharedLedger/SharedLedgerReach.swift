import Foundation
import OmniPostCore
import OmniPostLedger

/// A pipeline's shared ledger (`ledger: postgres://…`) as `check` sees it (docs/several-hosts.md): reached
/// and logged into, nothing changed. `run` and the commands open it through `Ledger.open`.
package enum SharedLedgerReach {
    /// For `omnipost check`: connects (proving address, TLS, login and database), changing nothing, then says
    /// what it found — or the problem, at the `ledger:` key, in a sentence naming the database.
    package static func check(_ config: PipelineConfig) -> (problems: [OmniError], note: String?) {
        guard let shared = config.sharedLedger else { return ([], nil) }
        do {
            let ledger = try PostgresLedger(shared, migrating: false)
            defer { ledger.close() }
            let server = try ledger.describeServer()
            let schema = try ledger.appliedMigrations().last.map { "schema at \($0)" } ?? "no ledger schema yet"
            return ([], "ledger \(shared.display) reached (\(server)), \(schema)")
        } catch let e as OmniError {
            return ([OmniError(e.code, e.message, at: shared.location)], nil)
        } catch {
            return ([OmniError(.ledgerUnreachable, "the ledger \(shared.display) cannot be used: \(error)", at: shared.location)], nil)
        }
    }
}

/// `omnipost ledger migrate`: a pipeline's SQLite ledger copied into a shared PostgreSQL one.
package enum SharedLedgerMigration {
    /// Copies `config`'s SQLite ledger into the database `target` names (migrated first), counts checked
    /// (`PostgresLedger.copy`). The daemon must be stopped: what it writes after the copy's read began is
    /// not in the copy.
    package static func copy(_ config: PipelineConfig, to target: PostgresLedgerConfig) throws -> [CopiedTable] {
        guard FileManager.default.fileExists(atPath: config.paths.ledger.path) else {
            throw OmniError(.configInvalid, "\(config.paths.ledger.path) does not exist: this pipeline has no ledger to copy yet")
        }
        let source = try Ledger(path: config.paths.ledger.path)
        let shared = try PostgresLedger(target)
        defer { shared.close() }
        return try shared.copy(from: source)
    }
}
