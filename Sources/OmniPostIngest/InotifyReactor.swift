import Foundation
import OmniPostCore
#if canImport(Glibc)
    import Glibc
#endif

/// The one thread that reads every `InotifySource` in the process: it sleeps in `poll` on all their
/// descriptors — no timeout, so idle inboxes cost no wake-ups — and drains whichever is readable.
/// One thread, one stack and one read buffer for all of them, where a thread each (4 a pipeline: inbox,
/// outbox, failed, the ledger's folder) was 32 threads blocked in `poll` for 8 pipelines (issue 30).
/// Started with the first source; it lives as long as the process.
final class InotifyReactor: @unchecked Sendable {
    static let shared = InotifyReactor()

    /// The reader thread's name (what `top -H` and /proc/<pid>/task/*/comm show).
    static let threadName = "inotify"

    private let lock = NSLock()
    /// The started sources, by descriptor. Held here until `remove`, so a source's descriptor stays
    /// open while it is registered.
    private var sources: [Int32: InotifySource] = [:]
    private var started = false
    /// Written to when the set of sources changes: the thread wakes and polls the new set.
    private var wake: (read: Int32, write: Int32) = (-1, -1)

    private init() {
        var p: [Int32] = [0, 0]
        if pipe(&p) == 0 {
            for fd in p { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            _ = fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK)
            _ = fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK)
            wake = (p[0], p[1])
        }
    }

    /// Registers a started source; false if the reactor has no wake pipe (the caller ends its stream,
    /// and the watcher falls back on its scans as it would for any failed watch).
    func add(_ source: InotifySource, fd: Int32) -> Bool {
        guard wake.read >= 0 else { return false }
        lock.lock()
        sources[fd] = source
        let start = !started
        started = true
        lock.unlock()
        if start {
            Thread.startLoop { [self] in run() }
        } else {
            ring()
        }
        return true
    }

    /// Unregisters a stopped source: nothing more is read from it. A drain already under way on the
    /// reactor's thread finishes into the source's ended stream, which drops what it yields.
    func remove(_ source: InotifySource, fd: Int32) {
        lock.lock()
        let removed = sources[fd] === source
        if removed { sources[fd] = nil }
        lock.unlock()
        if removed { ring() }
    }

    /// A source was rearmed: the thread polls it again.
    func poke() { ring() }

    private func ring() {
        var one: UInt8 = 1
        _ = write(wake.write, &one, 1)
    }

    private func run() {
        // Foundation's `Thread.name` does not reach the kernel on Linux; a thread otherwise keeps its
        // creator's name (a libdispatch worker's), which hides it among them.
        if let comm = FileHandle(forWritingAtPath: "/proc/thread-self/comm") {
            try? comm.write(contentsOf: Data(Self.threadName.utf8))
            try? comm.close()
        }
        let bufSize = 256 * 1024
        let buf = UnsafeMutableRawPointer.allocate(byteCount: bufSize, alignment: 8)
        defer { buf.deallocate() }
        var scratch = [UInt8](repeating: 0, count: 64)
        while true {
            lock.lock()
            var pfds = [pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
            for (fd, source) in sources where source.isArmed { pfds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
            lock.unlock()
            let n = poll(&pfds, nfds_t(pfds.count), -1)
            if n <= 0 { continue }
            if pfds[0].revents != 0 {
                while read(wake.read, &scratch, scratch.count) > 0 {}
            }
            for p in pfds.dropFirst() where p.revents != 0 {
                lock.lock()
                let source = sources[p.fd]
                lock.unlock()
                source?.drain(into: buf, size: bufSize)
            }
        }
    }
}
