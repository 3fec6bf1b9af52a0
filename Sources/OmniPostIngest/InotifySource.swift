import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// One inotify instance for one inbox tree. One thread for every source in the process (`InotifyReactor`)
/// drains the kernel queues as fast as they fill (so a burst of thousands of files does not overflow in
/// normal operation) and hands events to an AsyncStream; the watcher does the thinking. Each source keeps
/// its own instance — its own queue, watch descriptors and overflow — so sharing the thread changes
/// nothing a watcher sees (issue 30: a thread blocked in `poll` per source was 32 threads for 8 pipelines).
package final class InotifySource: @unchecked Sendable {
    package enum Event: Sendable {
        /// A file was closed after writing or moved in: a completeness signal.
        case closed(String)
        /// A file was written to, or created: a writer has it open, it is still changing.
        case modified(String)
        /// A file's attributes changed (touch, chmod): worth a new look, not a sign of writing.
        case touched(String)
        /// A file disappeared (deleted or moved away).
        case removed(String)
        /// A folder appeared: watch it and scan it (files may already be inside).
        case directoryCreated(String)
        /// The kernel queue overflowed, or a watch could not be added: rescan and reconcile.
        case overflow(String)
        /// A link the root goes through was replaced or removed (`watchLinks`): the root may be another
        /// folder now.
        case linkChanged(String)
    }

    package let root: String
    private let fd: Int32
    private let lock = NSLock()
    private var wdToDir: [Int32: String] = [:]
    /// The folders holding a link the root goes through, and the links' names there (`watchLinks`).
    private var linkDirs: [Int32: (dir: String, names: Set<String>)] = [:]
    private var stopped = false
    private var continuation: AsyncStream<Event>.Continuation?
    /// Read once, then left to the kernel until `rearm()` (`readOnceUntilRearmed`).
    private var oneShot = false
    private var armed = true

    package init(root: String) throws {
        self.root = root
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
    }

    // The reactor holds a started source until `stop()`, so the descriptor is never closed under it.
    deinit { close(fd) }

    static let mask: UInt32 =
        UInt32(
            IN_CLOSE_WRITE | IN_MOVED_TO | IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM
                | IN_DELETE_SELF | IN_ATTRIB) | IN_ONLYDIR_FLAG | IN_DONT_FOLLOW_FLAG

    /// Adds a watch on a folder (relative to root). An ENOSPC (watch limit) is reported as an overflow
    /// so the folder is still covered by rescans, never a crash. The root itself is the operator's
    /// configuration and may be a link to the folder (`/srv/inbox` → a share's mount): it is followed —
    /// with `IN_DONT_FOLLOW` the watch landed on the link, which `IN_ONLYDIR` refuses, and the inbox was
    /// seen only by its 30 s safety net. A link below the root is never followed.
    @discardableResult
    package func watch(relDir: String) -> Bool {
        let abs = relDir.isEmpty ? root : root + "/" + relDir
        let wd = inotify_add_watch(fd, abs, relDir.isEmpty ? Self.mask & ~IN_DONT_FOLLOW_FLAG : Self.mask)
        if wd < 0 {
            if errno == ENOSPC { continuation?.yield(.overflow("inotify watch limit reached at \(abs); raise fs.inotify.max_user_watches")) }
            return false
        }
        lock.lock(); wdToDir[wd] = relDir; lock.unlock()
        return true
    }

    /// The mask of a watch on a folder holding a link the root goes through: a name made, moved or removed.
    static let linkMask = UInt32(IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM) | IN_ONLYDIR_FLAG | IN_MASK_ADD_FLAG

    /// Watches the folder of every link the root goes through (`/srv/inbox` → `/data/current` → `v1`:
    /// `/srv` for `inbox`, `/data` for `current`), so a link re-pointed (`ln -sfn`, `mv -T`, `rm` and `ln -s`)
    /// is an event (`linkChanged`), not something found at the next look. `IN_MASK_ADD`: a folder watched
    /// for the tree too keeps its mask.
    package func watchLinks() {
        for (dir, name) in LinkChain.links(on: root) {
            let wd = inotify_add_watch(fd, dir, Self.linkMask)
            guard wd >= 0 else { continue }
            lock.lock(); linkDirs[wd, default: (dir, [])].names.insert(name); lock.unlock()
        }
    }

    /// Drops every watch — the tree's and the links' — so the root can be watched anew where it leads now
    /// (`InboxWatcher` after a re-point). Events already queued for the old watches find no folder and are
    /// dropped: a file of the old folder is never taken for one of the new.
    package func unwatchAll() {
        lock.lock()
        let wds = Set(wdToDir.keys).union(linkDirs.keys)
        wdToDir.removeAll()
        linkDirs.removeAll()
        lock.unlock()
        for wd in wds { _ = inotify_rm_watch(fd, wd) }
    }

    /// After each read the source is not read again until `rearm()`: what the kernel queues meanwhile
    /// waits there, and a file written again and again (the ledger's `-wal`, once per page a commit
    /// writes) is one queued event — the kernel merges an event identical to the last one queued — not
    /// one read, one hand-off and one wake-up of the reader each (issue 30: ~160 a published drop, for a
    /// `LedgerDoorbell` that looks at most 10 times a second anyway). Set before `events()`.
    package func readOnceUntilRearmed() {
        lock.lock(); oneShot = true; lock.unlock()
    }

    /// Lets the reader read this source again (a no-op while it is armed).
    package func rearm() {
        lock.lock()
        let was = armed
        armed = true
        lock.unlock()
        if !was { InotifyReactor.shared.poke() }
    }

    /// Whether the reader polls this source now.
    var isArmed: Bool {
        lock.lock(); defer { lock.unlock() }
        return armed
    }

    /// Hands the source to the reader thread and returns the event stream.
    package func events() -> AsyncStream<Event> {
        let (stream, cont) = AsyncStream<Event>.makeStream(bufferingPolicy: .unbounded)
        lock.lock()
        let wasStopped = stopped
        if !wasStopped { continuation = cont }
        lock.unlock()
        if wasStopped || !InotifyReactor.shared.add(self, fd: fd) { cont.finish() }
        return stream
    }

    /// Ends the stream (events already read are still delivered) and lets go of the descriptor.
    package func stop() {
        lock.lock()
        stopped = true
        let cont = continuation
        continuation = nil
        lock.unlock()
        InotifyReactor.shared.remove(self, fd: fd)
        cont?.finish()
    }

    /// Reads what the kernel queued for this instance, until it has nothing more (the descriptor is
    /// non-blocking): called by the reactor's thread when the descriptor is readable.
    func drain(into buf: UnsafeMutableRawPointer, size bufSize: Int) {
        // Disarmed before anything is handed on: a `rearm()` that follows what this read hands on is
        // never undone by it (the consumer would wait on a source nobody reads).
        lock.lock(); let cont = continuation; if oneShot { armed = false }; lock.unlock()
        // Stopping: what is queued is read and dropped, so the reactor is not woken again for it.
        guard let cont else {
            while read(fd, buf, bufSize) > 0 {}
            return
        }
        var handedOn = false
        while true {
            let n = read(fd, buf, bufSize)
            if n <= 0 { break }
            var off = 0
            while off + 16 <= n {
                let wd = buf.load(fromByteOffset: off, as: Int32.self)
                let mask = buf.load(fromByteOffset: off + 4, as: UInt32.self)
                let len = Int(buf.load(fromByteOffset: off + 12, as: UInt32.self))
                var name = ""
                if len > 0 {
                    let p = buf.advanced(by: off + 16).assumingMemoryBound(to: UInt8.self)
                    let bytes = Array(UnsafeBufferPointer(start: p, count: len).prefix { $0 != 0 })
                    // A name that is not UTF-8 cannot be a path we can stat: a rescan lists it as
                    // bytes and renames it to its Latin-1 reading (NonUTF8Names).
                    guard let valid = String(validating: bytes, as: UTF8.self) else {
                        off += 16 + len
                        if mask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO) != 0 {
                            cont.yield(.overflow("a file name that is not UTF-8"))
                            handedOn = true
                        }
                        continue
                    }
                    name = valid
                }
                off += 16 + len
                if handle(wd: wd, mask: mask, name: name, cont) { handedOn = true }
            }
        }
        // A read-once source whose read handed nothing on (an event on a watch being dropped, a folder's
        // attributes): no consumer will look, so nothing would rearm it — it is read again from now.
        if !handedOn { rearm() }
    }

    /// Whether anything was handed on.
    private func handle(wd: Int32, mask: UInt32, name: String, _ cont: AsyncStream<Event>.Continuation) -> Bool {
        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
            cont.yield(.overflow("inotify queue overflowed"))
            return true
        }
        if mask & UInt32(IN_IGNORED) != 0 {
            lock.lock(); wdToDir[wd] = nil; linkDirs[wd] = nil; lock.unlock()
            return false
        }
        lock.lock(); let dir = wdToDir[wd], link = linkDirs[wd]; lock.unlock()
        var yielded = false
        if let link, link.names.contains(name), mask & UInt32(IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM) != 0 {
            cont.yield(.linkChanged(link.dir + "/" + name))
            yielded = true
        }
        guard let dir, !name.isEmpty else { return yielded }
        let rel = dir.isEmpty ? name : dir + "/" + name
        let isDir = mask & IN_ISDIR_FLAG != 0
        if isDir {
            guard mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 else { return yielded }
            cont.yield(.directoryCreated(rel))
            return true
        }
        if mask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO) != 0 {
            cont.yield(.closed(rel))
        } else if mask & UInt32(IN_MODIFY | IN_CREATE) != 0 {
            cont.yield(.modified(rel))
        } else if mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 {
            cont.yield(.removed(rel))
        } else if mask & UInt32(IN_ATTRIB) != 0 {
            cont.yield(.touched(rel))
        } else {
            return yielded
        }
        return true
    }
}

// Glibc imports these flags as Int32 or not at all on some versions; spell them out.
let IN_ONLYDIR_FLAG: UInt32 = 0x0100_0000
let IN_DONT_FOLLOW_FLAG: UInt32 = 0x0200_0000
let IN_ISDIR_FLAG: UInt32 = 0x4000_0000
let IN_MASK_ADD_FLAG: UInt32 = 0x2000_0000
