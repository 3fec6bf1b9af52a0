import Foundation
import Logging
import OmniPostCore
import OmniPostPlatforms
import ServiceLifecycle
import UnixSignals

/// The daemon's pipelines, and `SIGHUP`: each pipeline file is read again and, if it is valid, its
/// pipeline is swapped for one built from it — the old one stops claiming, what it held is released
/// (checkpoints kept: an upload resumes from its confirmed offset, a drop from its last state), and the
/// new one takes it up at once. A file that no longer reads is refused with its reason and place, and
/// the pipeline it describes keeps running as it was. The embedded sandbox is kept across a reload.
package actor Supervisor: Service {
    final class Slot: @unchecked Sendable {
        let path: String
        var pipeline: Pipeline
        var task: Task<Void, Never>?
        init(path: String, pipeline: Pipeline) { self.path = path; self.pipeline = pipeline }
    }

    let slots: [Slot]
    let logger: Logger
    let progress: ProgressSink
    let load: @Sendable (String) throws -> PipelineConfig
    /// Reloads done and refused, for `status` lines and tests.
    package private(set) var reloads = 0, refusals = 0

    package init(
        pipelines: [(path: String, pipeline: Pipeline)], logger: Logger, progress: ProgressSink,
        load: @escaping @Sendable (String) throws -> PipelineConfig
    ) {
        slots = pipelines.map { Slot(path: $0.path, pipeline: $0.pipeline) }
        self.logger = logger
        self.progress = progress
        self.load = load
    }

    package var pipelines: [Pipeline] { slots.map(\.pipeline) }

    package func run() async throws {
        for slot in slots { start(slot) }
        // SIGHUP until the service group says stop (SIGTERM/SIGINT).
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            await reload()
        }
        for slot in slots { slot.task?.cancel() }
        for slot in slots { await slot.task?.value }
    }

    private func start(_ slot: Slot) {
        let p = slot.pipeline, logger = logger
        slot.task = Task {
            do { try await p.run(once: false) } catch is CancellationError {} catch {
                logger.error("a pipeline stopped", metadata: ["omnipost.pipeline": "\(p.context.config.name)", "error": "\(error)"])
            }
        }
    }

    /// Reads every pipeline file again; swaps each that reads, keeps each that does not.
    package func reload() async {
        for slot in slots {
            let config: PipelineConfig
            do { config = try load(slot.path) } catch {
                refusals += 1
                let why = (error as? OmniError).map(\.description) ?? "\(error)"
                progress.line("reload \(slot.path): refused, still running as before: \(why)")
                logger.error("reload refused; the pipeline keeps running as it was", metadata: ["omnipost.file": "\(slot.path)", "error": "\(why)"])
                try? slot.pipeline.context.ledger.note(.refused, stage: .reload, detail: "\(slot.path): \(why)")
                continue
            }
            let old = slot.pipeline
            // Stop claiming and let what runs end; then release what it held, so the new one starts at once.
            old.context.wakeup.ring()
            slot.task?.cancel()
            await slot.task?.value
            let released = (try? old.context.ledger.releaseLeases(owner: old.context.owner)) ?? 0
            let keep = config.sandbox == .embedded && old.embedded != nil
            await old.close(keepingSandbox: keep)
            do {
                let fresh = try await Pipeline.open(
                    config: config, logger: logger, progress: progress, embedding: old.embedding,
                    reusing: keep ? old.embedded : nil)
                slot.pipeline = fresh
                start(slot)
                reloads += 1
                try? fresh.context.ledger.note(.reloaded, stage: .reload, detail: "\(slot.path): \(config.targets.count) target(s); \(released) held item(s) taken over")
                progress.line("reload \(slot.path): done (\(config.targets.map(\.name).joined(separator: ", "))); \(released) item(s) in flight carried on")
            } catch {
                // The file read but the pipeline would not open (a port taken, a key unreadable): the old
                // configuration comes back, so the folder is never left unwatched.
                refusals += 1
                let why = (error as? OmniError).map(\.description) ?? "\(error)"
                progress.line("reload \(slot.path): could not open the new configuration (\(why)); reopening the previous one")
                logger.error("reload failed to open; reopening the previous configuration", metadata: ["omnipost.file": "\(slot.path)", "error": "\(why)"])
                do {
                    slot.pipeline = try await Pipeline.open(
                        config: old.context.config, logger: logger, progress: progress,
                        embedding: old.embedding, reusing: keep ? old.embedded : nil)
                    try? slot.pipeline.context.ledger.note(.refused, stage: .reload, detail: "\(slot.path): \(why)")
                    start(slot)
                } catch {
                    logger.critical("the previous configuration did not reopen either", metadata: ["omnipost.file": "\(slot.path)", "error": "\(error)"])
                    progress.line("reload \(slot.path): the previous configuration did not reopen either (\(error)); restart the service")
                }
            }
        }
    }
}
