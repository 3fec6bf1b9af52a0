import ArgumentParser
import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPipeline
import OmniPostPlatforms

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Upload statistics per platform and account, each post's latest numbers and engagement, and best posting times, from the ledger.")

    @Argument(help: "Pipeline file.") var pipeline: String
    @Option(help: "Only what ended since a time (2026-12-05T10:00:00Z), a day (2026-12-05) or an age (30d, 24h).") var since = "30d"
    @Option(help: "Only this platform (youtube).") var platform: String?
    @Option(help: "Only this account (youtube:main, or main).") var account: String?
    @Option(help: "Posts an hour of the week needs before it is recommended.") var minimumSample = 3
    @Option(help: "Platforms or accounts side by side over the same window, the same columns each: platform or account.") var compare: String?
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print CSV: accounts, posts and best times, each a table with its header, an empty line between.") var csv = false

    func run() async throws {
        let config = try PlatformRegistry.load(path: pipeline)
        let from: Double
        do {
            from = try StatusFilter.parseSince(since)
            guard !(json && csv) else { throw OmniError(.invalidValue, "--json and --csv: one or the other") }
        } catch let e as OmniError {
            FileHandleOutput.stderr("\(e)")
            throw ExitCode(2)
        }
        let ledger = try Ledger.open(config)
        if let compare {
            guard let by = PostCompare.By(rawValue: compare) else {
                FileHandleOutput.stderr("\(OmniError(.invalidValue, "--compare takes platform or account, found '\(compare)'"))")
                throw ExitCode(2)
            }
            let c = try PostCompare.gather(ledger: ledger, since: Date(timeIntervalSince1970: from), by: by, platform: platform, account: account)
            if json {
                print(try c.json())
            } else if csv {
                FileHandle.standardOutput.write(Data(c.csv().utf8))
            } else {
                print(c.text().split(separator: "\n", omittingEmptySubsequences: false).map { TerminalText.escape(String($0)) }.joined(separator: "\n"))
            }
            return
        }
        let stats = try PostStats.gather(
            ledger: ledger, since: Date(timeIntervalSince1970: from), platform: platform, account: account, minimumSample: max(1, minimumSample),
            zone: config.schedule.zone)
        if json {
            print(try stats.json())
        } else if csv {
            FileHandle.standardOutput.write(Data(stats.csv().utf8))
        } else {
            print(stats.text().split(separator: "\n", omittingEmptySubsequences: false).map { TerminalText.escape(String($0)) }.joined(separator: "\n"))
        }
    }
}
