import Foundation

/// systemd's side of the notify protocol, for tests: a datagram socket bound in a temp dir that the
/// daemon (or a `SystemdWatchdog`) is pointed at, and what arrives on it.
final class NotifySocket: @unchecked Sendable {
    let path: String
    private let fd: Int32

    init(in dir: TempDir) throws {
        path = dir.file("notify.sock").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in Array(path.utf8).enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
    }

    deinit { close(fd) }

    /// The next message, or nil when none came within `seconds`.
    func receive(within seconds: Int) -> String? {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buf, buf.count, 0)
        return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : nil
    }

    /// Messages until one satisfies `done` (returned), or nil when `seconds` pass without it.
    func receive(until done: (String) -> Bool, within seconds: Int) -> String? {
        let end = Date().addingTimeInterval(Double(seconds))
        while Date() < end {
            if let m = receive(within: max(1, Int(end.timeIntervalSinceNow.rounded(.up)))), done(m) { return m }
        }
        return nil
    }
}
