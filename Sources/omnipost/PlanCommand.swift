import ArgumentParser
import Foundation
import OmniPostCore
import OmniPostPipeline
import OmniPostPlatforms

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what the pipeline would do with a drop, without doing it; exit 1 if anything would fail.",
        discussion: """
            Per target: the conversion (pass, remux, audio, transcode, and why), the final text after templates \
            (and the captions model, if the sidecar asks for one), the cover, the slot, the quota it would spend \
            and when it would go out. The pipeline's own stages decide, on a copy of its ledger: nothing is \
            converted, sent, moved or recorded.
            """)

    @Argument(help: "Pipeline file.") var pipeline: String
    @Argument(help: "A clip, a sidecar or clip list, or a folder of them.") var path: String
    @Flag(help: "Print the plan as JSON.") var json = false
    @Flag(help: "Do not ask the captions model for a sidecar's `ai:` text; show the templates' text.") var noAi = false

    func run() async throws {
        let config: PipelineConfig
        do { config = try PlatformRegistry.load(path: pipeline) } catch let e as OmniError {
            FileHandleOutput.stderr("\(e)")
            throw ExitCode(2)
        }
        let report: PlanReport
        do {
            report = try await DropPlanner(config: config, askModel: !noAi).plan(path)
        } catch let e as OmniError {
            print(TerminalText.escape("\(e.location.map { "\($0)" } ?? path): \(e.code): \(e.message)"))
            throw ExitCode(1)
        }
        if json {
            print(String(decoding: try JSONCoding.encoder().encode(report), as: UTF8.self))
        } else {
            for line in report.lines { print(TerminalText.escape(line)) }
        }
        if !report.ok { throw ExitCode(1) }
    }
}
