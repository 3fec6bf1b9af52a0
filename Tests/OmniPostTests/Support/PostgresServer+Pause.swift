import Foundation
import OmniPostCore

/// Stopping and starting a private server again on the same folder and port, as a database restart or
/// an outage does (the heartbeat's tests). pg_ctl runs as the folder's owner, as the server does.
extension PostgresServer {
    private var runAs: String { getuid() == 0 ? "setpriv --reuid=nobody --regid=nogroup --clear-groups -- " : "" }
    private var pgCtl: String { "'\(Self.bin!.appendingPathComponent("pg_ctl").path)' -D '\(dir.appendingPathComponent("data").path)'" }

    /// Stops the server (fast shutdown: every session ended) and waits until it has gone.
    func pause() throws {
        try pgCtl("-m fast -w stop")
    }

    /// Stops the server as a crash does (`-m immediate`: no checkpoint, sessions cut; the next start
    /// recovers from the WAL) and waits until it has gone.
    func crash() throws {
        try pgCtl("-m immediate -w stop")
    }

    /// Starts it again on the same port, waiting until it takes connections.
    func resume() throws {
        let options =
            "-p \(port) -k \(dir.path) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=\(synchronousCommit ? "on" : "off") -c max_connections=200"
        try pgCtl("-w -l '\(dir.path)/server-resumed.log' -o '\(options)' start")
    }

    /// Stops a server that may have been resumed (a resumed one is pg_ctl's, not the guardian's), then the guardian.
    func stopAfterPausing() {
        try? pgCtl("-m fast -w stop")
        stop()
    }

    /// Runs pg_ctl with its output in a file and every descriptor of ours closed first: a server it starts
    /// would otherwise inherit one Foundation's `Process` watches for the child's end, and waiting for
    /// pg_ctl would last as long as the server runs.
    private func pgCtl(_ arguments: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [
            "-c",
            "for fd in $(ls /proc/$$/fd); do [ \"$fd\" -gt 2 ] && eval \"exec $fd>&-\" 2>/dev/null; done; \(runAs)\(pgCtl) \(arguments) >>'\(dir.path)/pg_ctl.log' 2>&1"
        ]
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let log = (try? String(contentsOf: dir.appendingPathComponent("pg_ctl.log"), encoding: .utf8)) ?? ""
            throw OmniError(.internalError, "pg_ctl \(arguments) failed: \(log.suffix(600))")
        }
    }
}
