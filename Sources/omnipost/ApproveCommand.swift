import ArgumentParser
import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPipeline
import OmniPostPlatforms

/// Who a command-line approval names: the user running it.
private func cliWho() -> String { "\(ProcessInfo.processInfo.environment["USER"] ?? "someone") (cli)" }

struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a drop waiting for approval: its targets go out (edits are checked against each target's rules first).")

    @Argument(help: "Pipeline file.") var pipeline: String
    @Argument(help: "The drop id (from `status` or outbox/review/).") var drop: String
    @Option(help: "A note kept with the approval.") var note: String?
    @Option(help: "A new title for every target.") var title: String?
    @Option(help: "A new description for every target.") var description: String?
    @Option(name: .customLong("tag"), help: "Tags for every target, replacing theirs (repeatable).") var tags: [String] = []
    @Option(name: .customLong("publish-at"), help: "A new time to go out (ISO 8601, e.g. 2026-12-06T09:00:00Z).") var publishAt: String?
    @Option(name: .customLong("target"), help: "Send only to these targets (repeatable); the rest are cancelled.") var targets: [String] = []

    func run() async throws {
        var edits = ApprovalEdits(title: title, description: description, tags: tags.isEmpty ? nil : tags, targets: targets.isEmpty ? nil : targets)
        if let publishAt {
            guard let at = ISO8601DateFormatter().date(from: publishAt) else { throw ValidationError("--publish-at is an ISO 8601 time, e.g. 2026-12-06T09:00:00Z") }
            edits.publishAt = at
        }
        let config = try PlatformRegistry.load(path: pipeline)
        let control = QueueControl(config: config, ledger: try Ledger.open(config), who: cliWho())
        try await ControlOutput.each([drop]) { try control.approve($0, note: note, edits: edits) }
    }
}

struct RejectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject", abstract: "Reject a drop waiting for approval: nothing of it is sent; it goes to failed/ with the note.")

    @Argument(help: "Pipeline file.") var pipeline: String
    @Argument(help: "The drop id.") var drop: String
    @Option(help: "Why (kept as the failure's message).") var note: String?

    func run() async throws {
        let config = try PlatformRegistry.load(path: pipeline)
        let control = QueueControl(config: config, ledger: try Ledger.open(config), who: cliWho())
        try await ControlOutput.each([drop]) { try control.reject($0, note: note) }
    }
}
