import Foundation

/// systemd's notify protocol (`Type=notify`): `READY=1` once the pipelines are open, `WATCHDOG=1` while
/// they are alive, `STOPPING=1` on the way out — one datagram to `$NOTIFY_SOCKET` when systemd set one;
/// nothing otherwise.
package enum SystemdNotify {
    /// systemd's socket, from the environment (nil when not started by systemd with `Type=notify`).
    package static var socketPath: String? {
        guard let path = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"], !path.isEmpty else { return nil }
        return path
    }

    package static func send(_ state: String) {
        guard let path = socketPath else { return }
        send(state, to: path)
    }

    /// Sends one datagram; false when it could not be sent (a socket gone is not the daemon's failure).
    @discardableResult
    package static func send(_ state: String, to path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        // An abstract socket starts with @ (a NUL on the wire).
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        let max = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < max else { return false }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let len = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let sent = state.withCString { msg in
            withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, msg, strlen(msg), 0, $0, len) }
            }
        }
        return sent >= 0
    }
}
