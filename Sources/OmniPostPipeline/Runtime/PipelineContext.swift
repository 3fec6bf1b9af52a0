import Foundation
import Logging
import OmniPostCore
import OmniPostLedger
import OmniPostMedia
import OmniPostPlatforms

/// What every stage gets: the pipeline's config, the ledger, the tools, and the doorbell.
/// A context of swappable parts (STYLE.md: swiftly's context struct) so tests can drive each stage.
public struct PipelineContext: Sendable {
    public var config: PipelineConfig
    public var ledger: Ledger
    public var profiles: ProfileCatalog
    public var adapters: [String: any PlatformAdapter]
    public var logger: Logger
    public var wakeup: Wakeup
    public var progress: ProgressSink
    public var tools: ToolRunner
    /// Unique per process: lease owner name.
    public var owner: String
    /// Delay before retrying a transient upload failure.
    public var backoff: Backoff = Backoff()
    /// Files the watcher found settled but not yet whole: their partners' grace does not run out on them.
    public var arriving = ArrivingFiles()

    /// What the queue lets through: the profiles' quotas, the breaker and the caps of this pipeline.
    public var queueGate: QueueGate {
        QueueGate(quotas: profiles.quotas, breaker: config.upload.breaker, perPlatform: config.upload.perPlatform,
                  perAccount: config.upload.perAccount)
    }

    public var paths: PipelinePaths { config.paths }
    public var now: Date { ledger.clock.now() }

    public func inboxPath(_ rel: String) -> String { paths.inbox.appendingPathComponent(rel).path }
}

/// Where human progress lines go (stdout for the CLI, nowhere in most tests).
public struct ProgressSink: Sendable {
    public var line: @Sendable (String) -> Void
    public init(_ line: @escaping @Sendable (String) -> Void) { self.line = line }
    public static let silent = ProgressSink { _ in }
}
