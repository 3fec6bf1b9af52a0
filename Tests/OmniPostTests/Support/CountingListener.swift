import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A loopback listener that accepts and counts connections (closing each at once): where a redirect in
/// a test points (`UploadRedirectTests`, `ConformanceRedirectTests`), so a followed one shows.
final class CountingListener: Sendable {
    let port: Int
    private let fd: Int32
    private let tally = Tally()

    /// What the accepting thread counts (it holds this, not the listener, so the listener can go).
    final class Tally: @unchecked Sendable {  // `count` only under `lock`
        private let lock = NSLock()
        private var count = 0
        func add() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }

    init() throws {
        let (fd, port) = try DeadPort.loopbackSocket()
        guard listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        self.fd = fd
        self.port = port
        let tally = self.tally
        // The thread owns the descriptor and closes it once accept fails: `deinit` only shuts it down
        // (which wakes the accept), so no accept ever runs on a number closed and handed out again.
        Thread.detachNewThread {
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 {
                    if errno == EINTR { continue }
                    close(fd)
                    return
                }
                tally.add()
                close(c)
            }
        }
    }

    var connections: Int { tally.value }

    deinit {
        // Wakes the accept (EINVAL); the thread then closes the descriptor.
        shutdown(fd, Int32(SHUT_RDWR))
    }
}
