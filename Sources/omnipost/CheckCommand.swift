import ArgumentParser
import Foundation
import OmniPostCore
import OmniPostPlatforms
import OmniPostIngest

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Lint pipeline files and sidecars without running anything; exit 1 on any problem.")

    @Argument(help: "Pipeline files, sidecars and clip lists (*.manifest.yaml|json, clips_metadata.json).") var files: [String]

    func run() async throws {
        var problems = 0
        for f in files {
            do {
                if try Self.isPipeline(f) {
                    let config = try PlatformRegistry.load(path: f)
                    if let note = Self.pollingNote(config) { print("\(f): note: \(note)") }
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

    /// A polled inbox cannot see a writer close its file: recommend markers where they are not on.
    static func pollingNote(_ c: PipelineConfig) -> String? {
        guard !c.watch.readyMarker else { return nil }
        let decision = MountTable.decide(path: c.paths.inbox.path)
        let polled = c.watch.mode == .poll || (c.watch.mode == .auto && decision.usePoll)
        guard polled else { return nil }
        return "the inbox \(c.paths.inbox.path) is polled (\(c.watch.mode == .poll ? "watch.mode: poll" : decision.fsType)): a file counts as complete after 3 unchanged scans and \(c.watch.settleIsDefault ? "10 s" : "watch.settle") of stillness; writers that pause longer (SMB copies, exports) should use `watch: {ready_marker: true}` and write <name>.ready last"
    }

    /// A pipeline file has `targets:` at the top level; anything else is read as a sidecar.
    static func isPipeline(_ path: String) throws -> Bool {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
        return text.split(separator: "\n").contains { $0.hasPrefix("targets:") }
    }
}
