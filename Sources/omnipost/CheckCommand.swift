import ArgumentParser
import Foundation
import OmniPostCore

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Lint pipeline files and sidecars without running anything; exit 1 on any problem.")

    @Argument(help: "Pipeline files, sidecars and clip lists (*.manifest.yaml|json, clips_metadata.json).") var files: [String]

    func run() async throws {
        var problems = 0
        for f in files {
            do {
                if try Self.isPipeline(f) {
                    _ = try PipelineConfig.load(path: f)
                } else if ClipList.isClipList(f) {
                    _ = try ClipList.load(path: f, displayName: f)
                } else {
                    _ = try Manifest.load(path: f, displayName: f)
                }
                print("\(f): ok")
            } catch let e as OmniError {
                problems += 1
                print(e.location.map { "\($0): " } ?? "\(f): ", terminator: "")
                print("\(e.code): \(e.message)")
            }
        }
        if problems > 0 { throw ExitCode(1) }
    }

    /// A pipeline file has `targets:` at the top level; anything else is read as a sidecar.
    static func isPipeline(_ path: String) throws -> Bool {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
        return text.split(separator: "\n").contains { $0.hasPrefix("targets:") }
    }
}
