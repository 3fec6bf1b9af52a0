import ArgumentParser
import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPipeline
import OmniPostPlatforms

/// `omnipost notify test <pipeline> [sink]`: a test alert to each sink (or the one named), now, through
/// the daemon's own sending code — so "will I hear about a failure?" is answered before one happens.
struct NotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify", abstract: "Alerts: send a test message to the pipeline's sinks.", subcommands: [Test.self])

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test", abstract: "Send a test alert to every sink of the pipeline (or the one named); exit 1 if one did not take it.")
        @Argument(help: "Pipeline file.") var pipeline: String
        @Argument(help: "A sink's name (default: every sink).") var sink: String?

        func run() async throws {
            let config: PipelineConfig
            let results: [(sink: String, outcome: AlertSender.Outcome)]
            do {
                config = try PlatformRegistry.load(path: pipeline)
                results = try await AlertSender(config: config, http: HTTPClient.shared).test(sink: sink)
            } catch let e as OmniError {
                FileHandleOutput.stderr("\(e)")
                throw ExitCode(2)
            }
            for r in results {
                switch r.outcome {
                case .sent: print("  sent     \(r.sink)")
                case .retry(let why): print("  not yet  \(r.sink): \(why) (the daemon would try again with backoff)")
                case .refused(let why): print("  refused  \(r.sink): \(why) (the daemon would give up on it)")
                }
            }
            if results.contains(where: { $0.outcome != .sent }) { throw ExitCode(1) }
        }
    }
}
