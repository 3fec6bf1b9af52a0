import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// A loopback port that refuses connections for as long as this value lives: bound, never listened on.
/// A port that was listened on and closed is not dead — with tests running side by side, another test's
/// server may bind it the next moment and answer in its place.
final class DeadPort: @unchecked Sendable {  // immutable after init; the descriptor is only closed in deinit
    let port: Int
    private let fd: Int32

    init() throws {
        (fd, port) = try Self.loopbackSocket()
    }

    /// A TCP socket bound to a free port on 127.0.0.1, not listening (the caller decides): its descriptor and port.
    static func loopbackSocket() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { close(fd); throw POSIXError(.EADDRINUSE) }
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }

    deinit { close(fd) }
}
