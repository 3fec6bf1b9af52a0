import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Tells a crash from a kill. A process that traps (an overflow, a failed precondition, a bad pointer)
/// leaves `<dir>/.crashed-<pid>` on its way down; `kill -9` cannot be caught and leaves nothing. At the
/// next start the ledger charges a crash only to the drops a crashed process held — so a file that
/// crashes the daemon is quarantined, while a power cut or an operator's kill costs nothing.
package enum CrashMarker {
    nonisolated(unsafe) private static var markerPath: UnsafeMutablePointer<CChar>?
    nonisolated(unsafe) private static var previous: UnsafeMutablePointer<sigaction>?
    static let signals: [Int32] = [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT]

    package static func path(dir: URL, pid: Int32) -> URL { dir.appendingPathComponent(".crashed-\(pid)") }

    /// Installs the handlers once per process; later calls only move the marker's folder.
    package static func install(dir: URL) {
        let p = strdup(path(dir: dir, pid: getpid()).path)
        let old = markerPath
        markerPath = p
        if old != nil { return }  // handlers already in place (a second pipeline in one process)
        let saved = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)
        saved.initialize(repeating: sigaction(), count: 65)
        previous = saved
        for sig in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = crashHandler
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(sig, &action, saved + Int(sig))
        }
    }

    /// Whether process `pid` left a marker in `dir` (`clear` removes it once it has been counted).
    package static func crashed(dir: URL, pid: Int32) -> Bool {
        FileManager.default.fileExists(atPath: path(dir: dir, pid: pid).path)
    }

    package static func clear(dir: URL, pid: Int32) {
        try? FileManager.default.removeItem(at: path(dir: dir, pid: pid))
    }

    /// Async-signal-safe: open, close, restore the previous handler, return. The faulting
    /// instruction runs again and the previous handler (Swift's backtracer, or the default) takes it;
    /// abort() re-raises by itself.
    fileprivate static func handle(_ sig: Int32) {
        if let p = markerPath {
            let fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
            if fd >= 0 { close(fd) }
        }
        if let prev = previous { sigaction(sig, prev + Int(sig), nil) } else { signal(sig, SIG_DFL) }
    }
}

private func crashHandler(_ sig: Int32) {
    CrashMarker.handle(sig)
}
