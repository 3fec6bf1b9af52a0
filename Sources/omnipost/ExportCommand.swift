import ArgumentParser
import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPipeline
import OmniPostPlatforms

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the ledger's posts, their numbers or the upload attempts between two times as CSV or JSON, streamed.")

    @Argument(help: "Pipeline file.") var pipeline: String
    @Option(help: "From a time (2026-12-05T10:00:00Z), a day (2026-12-05) or an age (30d).") var from = "36500d"
    @Option(help: "Up to a time, a day or an age (default: now).") var to: String?
    @Option(help: "csv or json.") var format = "csv"
    @Option(help: "posts, metrics or attempts.") var table = "posts"

    func run() async throws {
        let config = try PlatformRegistry.load(path: pipeline)
        let start: Double, end: Double
        let kind: Ledger.ExportTable, form: LedgerExport.Format
        do {
            start = try StatusFilter.parseSince(from)
            end = try to.map { try StatusFilter.parseSince($0) } ?? Date().timeIntervalSince1970
            guard let k = Ledger.ExportTable(rawValue: table) else {
                throw OmniError(.invalidValue, "--table is one of \(Ledger.ExportTable.allCases.map(\.rawValue).joined(separator: ", ")), not '\(table)'")
            }
            guard let f = LedgerExport.Format(rawValue: format) else { throw OmniError(.invalidValue, "--format is csv or json, not '\(format)'") }
            kind = k
            form = f
        } catch let e as OmniError {
            FileHandleOutput.stderr("\(e)")
            throw ExitCode(2)
        }
        let ledger = try Ledger.open(config)
        let stdout = FileHandle.standardOutput
        try LedgerExport.write(
            kind, ledger: ledger, from: Date(timeIntervalSince1970: start), to: Date(timeIntervalSince1970: end), format: form
        ) { stdout.write(Data($0.utf8)) }
    }
}
