import ArgumentParser
import AsyncHTTPClient
import Foundation
import OmniPostCore
import OmniPostPlatforms
import OmniPostLedger
import OmniPostPipeline

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show drops, deliveries, the queue, quotas, breakers and credentials from a pipeline's ledger.")

    @Argument(help: "Pipeline file.") var pipeline: String
    @Flag(help: "Print JSON (records as nested objects, times as RFC 3339).") var json = false
    @Option(help: "Only drops or deliveries in this state (repeatable): failed, published, ready…") var state: [String] = []
    @Option(help: "Only this target's deliveries (e.g. youtube:main).") var target: String?
    @Option(help: "Only drops since a time (2026-12-05T10:00:00Z), a day (2026-12-05) or an age (24h, 7d).") var since: String?
    @Option(help: "At most this many drops, the newest (default 50; 0 for all).") var limit: Int = 50

    func run() async throws {
        let config = try PlatformRegistry.load(path: pipeline)
        let filter: StatusFilter
        do {
            for s in state { try StatusFilter.checkState(s) }
            guard limit >= 0 else { throw OmniError(.invalidValue, "--limit is 0 (all) or more, not \(limit)") }
            filter = StatusFilter(
                states: state.isEmpty ? nil : Set(state), target: target, since: try since.map { try StatusFilter.parseSince($0) },
                limit: limit == 0 ? nil : limit)
        } catch let e as OmniError {
            FileHandleOutput.stderr("\(e)")
            throw ExitCode(2)
        }
        let ledger = try Ledger.open(config)
        let report = try StatusReport.gather(config: config, ledger: ledger, profiles: try ProfileCatalog.bundled().overlaid(with: config.overrides))
        print(
            json
                ? try report.json(filter: filter)
                : try report.text(ledger: ledger, filter: filter).split(separator: "\n", omittingEmptySubsequences: false).map { TerminalText.escape(String($0)) }.joined(
                    separator: "\n"))
    }
}

struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Queue a failed delivery again, or a finished drop's unpublished targets (its originals go back into the inbox).")

    @Argument(help: "Pipeline file.") var pipeline: String
    @Argument(help: "Drop ids (e.g. 20261121-101500-clip-ab12) or delivery numbers (from `status`).") var ids: [String]

    func run() async throws { try await ControlOutput.run(pipeline, ids) { try $0.retry($1) } }
}

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a drop's unpublished deliveries, or one delivery. Uploads in flight are refused.")

    @Argument(help: "Pipeline file.") var pipeline: String
    @Argument(help: "Drop ids or delivery numbers (from `status`).") var ids: [String]

    /// A delivery with a platform session is cancelled where its adapter can abandon the session for
    /// sure (an S3 multipart upload is aborted), so the adapters are made as the daemon makes them.
    func run() async throws {
        let config = try PlatformRegistry.load(path: pipeline)
        let ledger = try Ledger.open(config)
        let control = QueueControl(config: config, ledger: ledger)
        // The daemon's pair of clients, with its TLS (`upload.ca_file`): an S3 abort goes on the one that
        // follows no redirect, and a bucket behind a private CA is reached as the daemon reaches it.
        let tls = try Pipeline.tlsConfiguration(config.upload)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(tlsConfiguration: tls))
        let uploads = UploadRedirect.client(tls: tls)
        var failure: (any Error)? = nil
        do {
            let adapters = try Pipeline.makeAdapters(config: config, ledger: ledger, http: http, uploads: uploads)
            try await ControlOutput.each(ids) { try await control.cancel($0, adapters: adapters) }
        } catch { failure = error }
        try? await uploads.shutdown()
        try? await http.shutdown()
        if let failure { throw failure }
    }
}

/// Runs a control action per id, printing what it did or why not; exits 1 if any failed.
enum ControlOutput {
    static func run(_ pipeline: String, _ ids: [String], _ action: (QueueControl, String) throws -> [String]) async throws {
        let config = try PlatformRegistry.load(path: pipeline)
        let control = QueueControl(config: config, ledger: try Ledger.open(config))
        try await each(ids) { try action(control, $0) }
    }

    static func each(_ ids: [String], _ body: (String) async throws -> [String]) async throws {
        var failed = false
        for id in ids {
            do {
                for line in try await body(id) { print(TerminalText.escape(line)) }
            } catch let e as OmniError {
                failed = true
                FileHandle.standardError.write(Data("\(id): \(e.code): \(e.message)\n".utf8))
            }
        }
        if failed { throw ExitCode(1) }
    }
}
