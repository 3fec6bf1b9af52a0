import Foundation
import Logging
import ServiceLifecycle

/// systemd's watchdog (`WatchdogSec=` in the unit): `WATCHDOG=1` every half of the interval systemd gave
/// (`$WATCHDOG_USEC`), but only while every pipeline is alive — each stage loop waiting or progressing
/// within its deadline, and the ledger answering. When one is not, the pings stop, the reason is logged
/// and put in systemd's `STATUS=`, and systemd restarts the daemon; leases and checkpoints let the next
/// start carry on where this one stuck.
package struct SystemdWatchdog: Service {
    let interval: Duration
    let socket: String
    let logger: Logger
    let pipelines: @Sendable () async -> [Pipeline]

    /// From systemd's environment: nil unless both `NOTIFY_SOCKET` and `WATCHDOG_USEC` are set (and
    /// `WATCHDOG_PID`, when set, is this process).
    package static func fromEnvironment(logger: Logger, pipelines: @escaping @Sendable () async -> [Pipeline]) -> SystemdWatchdog? {
        let env = ProcessInfo.processInfo.environment
        guard let socket = SystemdNotify.socketPath, let usec = env["WATCHDOG_USEC"].flatMap(Int64.init), usec > 0 else { return nil }
        if let pid = env["WATCHDOG_PID"].flatMap(Int32.init), pid != getpid() { return nil }
        return SystemdWatchdog(interval: .microseconds(usec / 2), socket: socket, logger: logger, pipelines: pipelines)
    }

    package init(interval: Duration, socket: String, logger: Logger, pipelines: @escaping @Sendable () async -> [Pipeline]) {
        self.interval = interval
        self.socket = socket
        self.logger = logger
        self.pipelines = pipelines
    }

    package func run() async throws {
        var wasDown = false
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let reasons = Self.notAlive(await pipelines())
            if reasons.isEmpty {
                SystemdNotify.send(wasDown ? "WATCHDOG=1\nSTATUS=running" : "WATCHDOG=1", to: socket)
                wasDown = false
            } else {
                // Said once per episode: the journal shows why systemd is about to restart the daemon.
                if !wasDown {
                    logger.error("not alive: systemd's watchdog is no longer fed", metadata: ["omnipost.reason": "\(reasons.joined(separator: "; "))"])
                    SystemdNotify.send("STATUS=not alive: \(reasons.joined(separator: "; "))", to: socket)
                }
                wasDown = true
            }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }

    /// Why the pipelines are not alive: one sentence per stuck stage or silent ledger; empty when alive.
    package static func notAlive(_ pipelines: [Pipeline], at now: Date = Date()) -> [String] {
        pipelines.flatMap { $0.notAlive(at: now) }
    }
}

extension Pipeline {
    /// Why this pipeline is not alive: its stuck stages, or its ledger not answering; empty when alive.
    package func notAlive(at now: Date = Date()) -> [String] {
        let name = context.config.name
        var reasons = context.liveness.stuck(at: now).map { "pipeline \(name): \($0)" }
        do { _ = try context.ledger.externalChangeCount() } catch {
            reasons.append("pipeline \(name): the ledger does not answer (\(error))")
        }
        return reasons
    }
}
