import Foundation
import OmniPostCore

/// Stopping and starting a private server again on the same folder and port, as a database restart or
/// an outage does (the heartbeat's tests). pg_ctl runs as the folder's owner, as the server does.
extension PostgresServer {
    private var runAs: String { getuid() == 0 ? "setpriv --reuid=nobody --regid=nogroup --clear-groups -- " : "" }
    private var pgCtl: String { "'\(Self.bin!.appendingPathComponent("pg_ctl").path)' -D '\(dir.appendingPathComponent("data").path)'" }

    /// Stops the server (fast shutdown: every session ended) and waits until it has gone.
    func pause() throws {
        try Self.sh("\(runAs)\(pgCtl) -m fast -w stop >>'\(dir.path)/pg_ctl.log' 2>&1")
    }

    /// Starts it again on the same port, waiting until it takes connections.
    func resume() throws {
        let options = "-p \(port) -k \(dir.path) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200"
        try Self.sh("\(runAs)\(pgCtl) -w -l '\(dir.path)/server-resumed.log' -o '\(options)' start >>'\(dir.path)/pg_ctl.log' 2>&1")
    }

    /// Stops a server that may have been resumed (a resumed one is pg_ctl's, not the guardian's), then the guardian.
    func stopAfterPausing() {
        _ = try? Self.sh("\(runAs)\(pgCtl) -m fast -w stop >/dev/null 2>&1")
        stop()
    }
}
