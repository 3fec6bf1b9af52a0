import ArgumentParser
import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPipeline
import OmniPostPlatforms

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check what an unattended run needs (ffmpeg and encoders, inotify limits, disks, clock, key file, ledger, accounts, listener); exit 1 on a failure.")
    @Argument(help: "Pipeline files.") var pipelines: [String]
    @Flag(help: "One JSON document.") var json = false

    func run() async throws {
        var all: [String: [Doctor.Finding]] = [:]
        for p in pipelines {
            let config = try PlatformRegistry.load(path: p)
            all[p] = await Doctor.run(config: config, http: HTTPClient.shared)
        }
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try e.encode(all), as: UTF8.self))
        } else {
            for p in pipelines {
                print("\(p):")
                for f in all[p] ?? [] {
                    print(
                        "  \(f.level.rawValue.uppercased().padding(toLength: 4, withPad: " ", startingAt: 0))  \(f.check): \(f.detail)"
                            + (f.fix.map { "\n        fix: \($0)" } ?? ""))
                }
            }
        }
        if all.values.joined().contains(where: { $0.level == .fail }) { throw ExitCode(1) }
    }
}
