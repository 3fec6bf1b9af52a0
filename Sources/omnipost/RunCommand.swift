import ArgumentParser
import Foundation
import Logging
import OmniPostCore
import OmniPostEmbedded
import OmniPostPlatforms
import OmniPostPipeline
import ServiceLifecycle

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run pipelines: watch their inboxes and publish what arrives.")

    @Argument(help: "Pipeline files (YAML).") var pipelines: [String]
    @Flag(help: "Drain what is in the inboxes now, then exit.") var once = false
    @Flag(help: "Print a summary table of this run's drops at the end (with --once).") var summary = false
    @Option(help: "Log level: trace, debug, info, warning, error.") var logLevel: String = "warning"
    @Option(help: "Log lines as text, json or logfmt (for journald and log shippers).") var logFormat: String = "text"

    /// The soft limit on open files up to the hard one, as daemons do: a burst of connections or of inbox
    /// files must not starve the stages and the ledger of descriptors (the listener also caps its own).
    static func raiseDescriptorLimit() {
        var l = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &l) == 0, l.rlim_cur < l.rlim_max else { return }
        l.rlim_cur = l.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &l)
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .warning
        guard logFormat == "text" || LineLogHandler.Format(rawValue: logFormat) != nil else {
            throw ValidationError("--log-format is text, json or logfmt, not '\(logFormat)'")
        }
        let format = LineLogHandler.Format(rawValue: logFormat)
        LoggingSystem.bootstrap { label in
            if let format {
                var h = LineLogHandler(label: label, format: format)
                h.logLevel = level
                return h
            }
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "omnipost")
        Self.raiseDescriptorLimit()
        MemoryTuning.apply()
        // Progress prose is for a person at a terminal. Under systemd (or any log shipper) with
        // --log-format json|logfmt, stdout is the journal too: there the structured lines say it all,
        // and prose between them would be one more format to parse.
        let prose = format == nil || isatty(STDOUT_FILENO) == 1
        let progress =
            prose
            ? ProgressSink { line in
                print(line); fflush(nil)
            } : .silent
        // The bundled sandbox, for the pipelines that run against it (`sandbox: embedded`).
        let sandboxes = EmbeddedSandbox()
        var opened: [Pipeline] = []
        var paths: [String] = []
        for path in pipelines {
            let config: PipelineConfig
            do { config = try PlatformRegistry.load(path: path) } catch let e as OmniError {
                FileHandleOutput.stderr("\(e)")
                throw ExitCode(2)
            }
            progress.line("pipeline \(config.name): \(path)")
            opened.append(try await Pipeline.open(config: config, logger: logger, progress: progress, embedding: sandboxes))
            paths.append(path)
        }
        let started = Date()
        // Every pipeline is open (ledger, listener, watcher): systemd may count the service as started.
        SystemdNotify.send("READY=1\nSTATUS=\(opened.count) pipeline(s) running")
        defer { SystemdNotify.send("STOPPING=1") }
        if once {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for p in opened { group.addTask { try await p.run(once: true) } }
                try await group.waitForAll()
            }
        } else {
            // SIGHUP reads the pipeline files again (the supervisor swaps each that reads, keeps each that does not).
            let supervisor = Supervisor(
                pipelines: Array(zip(paths, opened)).map { ($0.0, $0.1) }, logger: logger, progress: progress,
                load: { try PlatformRegistry.load(path: $0) })
            // Shut down in reverse: the watchdog stops first, the pipelines before the sandboxes they talk to.
            var services: [any Service] = [sandboxes, supervisor]
            if let watchdog = SystemdWatchdog.fromEnvironment(logger: logger, pipelines: { await supervisor.pipelines }) {
                services.append(watchdog)
            }
            let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            try await group.run()
            opened = await supervisor.pipelines
        }
        if summary || once {
            for p in opened { print(try SummaryTable.render(ledger: p.context.ledger, since: started.addingTimeInterval(-1))) }
        }
        for p in opened { await p.close() }
    }
}

enum FileHandleOutput {
    static func stderr(_ s: String) {
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }
}
