import Foundation
import Logging
import OmniPostCore
import Synchronization

/// Watches one inbox tree and reports files that are complete: closed after writing (or moved in)
/// and then unchanged in size and mtime for the settle window. Uses inotify, or polls directory
/// listings on network filesystems where inotify is blind. Knows nothing of drops or platforms.
package actor InboxWatcher {
    package enum Mode: String, Sendable { case inotify, poll }

    package struct Callbacks: Sendable {
        package var onComplete: @Sendable (FileFact) async -> Void
        package var onGone: @Sendable (String) async -> Void
        /// Asked before a settled file is reported: is it structurally whole (an MP4 whose index points
        /// at data that exists, a sidecar that parses)? False keeps it a candidate, looked at again
        /// after another settle window — it is still arriving.
        package var isWhole: @Sendable (FileFact) async -> Bool
        /// A file whose name was not UTF-8 was renamed to its Latin-1 reading.
        package var onRenamed: @Sendable (NonUTF8Names.Rename) async -> Void
        package init(
            onComplete: @escaping @Sendable (FileFact) async -> Void, onGone: @escaping @Sendable (String) async -> Void = { _ in },
            onRenamed: @escaping @Sendable (NonUTF8Names.Rename) async -> Void = { _ in },
            isWhole: @escaping @Sendable (FileFact) async -> Bool = { _ in true }
        ) {
            self.onComplete = onComplete
            self.isWhole = isWhole
            self.onGone = onGone
            self.onRenamed = onRenamed
        }
    }

    struct Candidate {
        var fact: FileFact
        var lastChange: Duration
        /// Saw close_write/moved_to (or found by a scan) since the last write.
        var closed: Bool
        /// Poll mode: scans in a row that found it unchanged.
        var stableScans = 0
    }

    package nonisolated let inbox: String
    package nonisolated let mode: Mode
    package nonisolated let fsType: String
    let config: WatchConfig
    let scanner: InboxScanner
    let logger: Logger
    /// Settle windows and ticks are measured on this clock (real by default; a test's hand-moved one).
    let clock: any SettleClock
    private var source: InotifySource?
    private var candidates: [String: Candidate] = [:]
    private var emitted: [String: FileFact] = [:]
    private var started = false
    package private(set) var rescans = 0
    /// The folder the inbox led to when its watches were added (device, inode), every link followed: an
    /// inbox that is a link (or goes through one) re-pointed since leads elsewhere, and is watched anew.
    private nonisolated let watchedFolder = Mutex<FolderIdentity?>(nil)
    /// Looks finished so far: a test moving the clock by hand waits for the next one to be over.
    private(set) var ticks = 0

    /// A file written through a hard link or by mmap never gets a close event; after this long
    /// unchanged it counts as complete anyway (`WatchConfig.openQuiet` when set).
    var staleOpenAfter: Duration { config.openQuiet ?? max(settle * 10, .seconds(60)) }

    /// Poll mode cannot see a writer close its file, and writers over SMB/NFS pause for seconds between
    /// writes: unless `watch.settle` is set, a polled inbox waits 10 s of stillness, not 2 s.
    package static let pollDefaultSettle: Duration = .seconds(10)
    /// Poll mode: a file must also be seen unchanged by this many scans in a row.
    package static let pollStableScans = 3

    /// The settle window in force for this inbox.
    package nonisolated var settle: Duration {
        mode == .poll && config.settleIsDefault ? max(config.settle, Self.pollDefaultSettle) : config.settle
    }

    /// What is pending right now, published after every tick.
    package nonisolated let pending: PendingFiles

    package init(
        inbox: URL, config: WatchConfig, logger: Logger, mountinfo: String? = nil, pending: PendingFiles = PendingFiles(),
        clock: any SettleClock = SystemSettleClock()
    ) {
        self.inbox = inbox.path
        self.clock = clock
        self.pending = pending
        self.config = config
        self.logger = logger
        self.scanner = InboxScanner(root: inbox.path, filter: JunkFilter(extra: config.ignore))
        let decision = MountTable.decide(path: inbox.path, mountinfo: mountinfo)
        self.fsType = decision.fsType
        switch config.mode {
        case .inotify: mode = .inotify
        case .poll: mode = .poll
        case .auto: mode = decision.usePoll ? .poll : .inotify
        }
        pending.doorbell = doorbell
    }

    /// Files seen but not yet complete (not counting those that only wait for a `.ready` marker).
    /// Zero after the first scan means the inbox is quiet.
    package var pendingCount: Int { started ? candidates.count - awaitingMarker.count : Int.max }
    private(set) var awaitingMarker = Set<String>()
    /// Rung by every event that may add a candidate; the tick loop sleeps on it while idle.
    nonisolated let doorbell = Wakeup()
    var isIdle: Bool { candidates.isEmpty }
    /// What the watcher last saw of a file it is waiting on (a test checks an event has been taken in).
    func candidate(_ rel: String) -> (fact: FileFact, closed: Bool)? { candidates[rel].map { ($0.fact, $0.closed) } }

    static let markerSuffix = ".ready"
    /// Settled files reported (checked whole and recorded, a ledger transaction each) in one tick.
    static let maxReportsPerTick = 200

    /// Runs until the task is cancelled.
    package func run(_ callbacks: Callbacks) async {
        logger.info(
            "watching inbox",
            metadata: [
                "omnipost.inbox": "\(inbox)", "omnipost.watch.mode": "\(mode.rawValue)", "omnipost.fs": "\(fsType)"
            ])
        var stream: AsyncStream<InotifySource.Event>?
        if mode == .inotify {
            do {
                let s = try InotifySource(root: inbox)
                // Watches first, then the scan: a file arriving in between is seen by one or the other.
                watchedFolder.withLock { $0 = FolderIdentity(of: inbox) }
                for dir in scanner.directories() { s.watch(relDir: dir) }
                s.watchLinks()
                stream = s.events()
                source = s
            } catch {
                logger.warning("inotify unavailable; polling instead", metadata: ["omnipost.inbox": "\(inbox)", "error": "\(error)"])
            }
        }
        addScan(closed: true)
        started = true
        if stream == nil, !config.readyMarker {
            logger.notice(
                "this inbox is polled: a file counts as complete after \(Self.pollStableScans) unchanged scans and \(settle) of stillness; writers that pause longer should use watch.ready_marker",
                metadata: ["omnipost.inbox": "\(inbox)"])
        }
        let tick = stream == nil ? config.pollInterval : min(max(settle / 4, .milliseconds(50)), .milliseconds(250))
        let src = source
        let clock = clock
        let events = stream
        let polling = stream == nil
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                if let events {
                    group.addTask { for await e in events { await self.handle(e) } }
                }
                group.addTask {
                    while !Task.isCancelled {
                        // With nothing pending an inotify watcher sleeps until an event brings a file: every
                        // event that may add a candidate rings, and so does a re-pointed link on the way to
                        // the inbox (seen by its folder's watch, or by `lookAtRoot`). No timeout: an idle
                        // tick found nothing to do (issue 30).
                        let ticket = self.doorbell.ticket()
                        if !polling, await self.isIdle { await self.doorbell.wait(after: ticket, timeout: nil) }
                        try? await clock.sleep(for: tick)
                        await self.tick(callbacks, polling: polling)
                    }
                }
                await group.waitForAll()
            }
        } onCancel: {
            src?.stop()
        }
    }

    func handle(_ event: InotifySource.Event) {
        defer { if !candidates.isEmpty { doorbell.ring() } }
        let now = clock.now()
        switch event {
        case .closed(let rel):
            guard !scanner.filter.isJunkPath(rel), let fact = scanner.stat(relPath: rel) else { return }
            candidates[rel] = Candidate(fact: fact, lastChange: now, closed: true)
        case .modified(let rel):
            // A write: whatever a tick has already seen, the file is open and changing until the next close.
            guard !scanner.filter.isJunkPath(rel), let fact = scanner.stat(relPath: rel) else { return }
            if candidates[rel] != nil || emitted[rel].map({ !$0.sameState(as: fact) }) ?? true {
                // A symlink is made whole in one step and never gets a close event.
                candidates[rel] = Candidate(fact: fact, lastChange: now, closed: fact.isSymlink)
            }
        case .touched(let rel):
            guard !scanner.filter.isJunkPath(rel), let fact = scanner.stat(relPath: rel) else { return }
            if var c = candidates[rel], !c.fact.sameState(as: fact) {
                c.fact = fact
                c.lastChange = now
                candidates[rel] = c
            } else if candidates[rel] == nil, let e = emitted[rel], !e.sameState(as: fact) {
                candidates[rel] = Candidate(fact: fact, lastChange: now, closed: true)
            }
        case .removed(let rel):
            candidates[rel] = nil
            emitted[rel] = nil
        case .directoryCreated(let rel):
            guard !scanner.filter.isJunkPath(rel) else { return }
            // Watch the new folder and everything under it, then scan it: files copied in with the
            // folder (cp -r, rsync) were written before the watch existed.
            let sub = InboxScanner(root: inbox + "/" + rel, filter: scanner.filter, renames: scanner.renames)
            for d in sub.directories() { source?.watch(relDir: d.isEmpty ? rel : rel + "/" + d) }
            for (r, fact) in sub.scan() {
                let full = rel + "/" + r
                var f = fact
                f.relPath = full
                if candidates[full] == nil { candidates[full] = Candidate(fact: f, lastChange: now, closed: true) }
            }
        case .overflow(let why):
            rescans += 1
            logger.warning("rescanning inbox", metadata: ["omnipost.inbox": "\(inbox)", "omnipost.reason": "\(why)"])
            addScan(closed: true)
        case .linkChanged(let link):
            followRoot(because: "\(link) changed")
        }
    }

    /// Whether the inbox leads to another folder than the one watched (one `stat`, every link followed);
    /// false while it leads nowhere (a link being re-made: its new name's event comes next).
    private nonisolated func rootMoved() -> Bool {
        guard let now = FolderIdentity(of: inbox) else { return false }
        return watchedFolder.withLock { $0 } != now
    }

    /// Asked by the process's safety net each round: a link re-pointed where no event told of it (a link
    /// on a share inotify cannot see) wakes the watcher, which watches the new folder.
    package nonisolated func lookAtRoot() {
        if mode == .inotify, rootMoved() { doorbell.ring() }
    }

    /// The inbox leads to another folder now (a link it is, or goes through, was re-pointed while the
    /// daemon runs): the old folder's watches go and the new folder's tree is watched — then scanned, as at
    /// start, for what arrived before the watches. Candidates of the old folder are looked at under the
    /// new one at the next tick (gone, or another file by that name: settled anew).
    private func followRoot(because why: String) {
        guard let source else { return }
        guard rootMoved(), let now = FolderIdentity(of: inbox) else {
            // The same folder (a link re-made the same): its chain of links may be new all the same.
            source.watchLinks()
            return
        }
        source.unwatchAll()
        watchedFolder.withLock { $0 = now }
        for dir in scanner.directories() { source.watch(relDir: dir) }
        source.watchLinks()
        rescans += 1
        let real = (try? FileManager.default.destinationOfSymbolicLink(atPath: inbox)) ?? inbox
        logger.notice(
            "the inbox leads to another folder now; watching it", metadata: ["omnipost.inbox": "\(inbox)", "omnipost.folder": "\(real)", "omnipost.reason": "\(why)"])
        addScan(closed: true)
    }

    /// Adds every file of a scan that is not already known in its current state.
    private func addScan(closed: Bool) {
        let now = clock.now()
        for (rel, fact) in scanner.scan() {
            if let e = emitted[rel], e.sameState(as: fact) { continue }
            if var c = candidates[rel] {
                if !c.fact.sameState(as: fact) { c.fact = fact; c.lastChange = now; c.stableScans = 0 } else { c.stableScans += 1 }
                candidates[rel] = c
            } else {
                candidates[rel] = Candidate(fact: fact, lastChange: now, closed: closed)
            }
        }
    }

    func tick(_ callbacks: Callbacks, polling: Bool) async {
        defer { ticks += 1 }
        if !polling, rootMoved() { followRoot(because: "found at a look") }
        for r in scanner.renames.drain() {
            logger.warning(
                r.new.isEmpty ? "a file whose name is not UTF-8 could not be renamed; rename it by hand" : "renamed a file whose name is not UTF-8",
                metadata: [
                    "omnipost.inbox": "\(inbox)", "omnipost.old": "\(r.dir.isEmpty ? "" : r.dir + "/")\(r.escaped)", "omnipost.new": "\(r.new)"
                ])
            await callbacks.onRenamed(r)
        }
        // Files the pipeline found changed since they were recorded (written through a hard link, which
        // sends no event here): looked at again, and reported again once settled.
        for rel in pending.drainRechecks() where candidates[rel] == nil && !scanner.filter.isJunkPath(rel) {
            if let fact = scanner.stat(relPath: rel) { candidates[rel] = Candidate(fact: fact, lastChange: clock.now(), closed: true) }
        }
        if polling {
            let listing = scanner.scan()
            for rel in emitted.keys where listing[rel] == nil { emitted[rel] = nil }
            for rel in candidates.keys where listing[rel] == nil {
                candidates[rel] = nil
                await callbacks.onGone(rel)
            }
            addScan(closed: true)
        }
        let now = clock.now()
        var ready: [FileFact] = []
        awaitingMarker.removeAll()
        for (rel, c) in candidates {
            if config.readyMarker && rel.hasSuffix(Self.markerSuffix) {
                // Markers are signals, not drops.
                candidates[rel] = nil
                continue
            }
            guard let fact = polling ? c.fact : scanner.stat(relPath: rel) else {
                candidates[rel] = nil
                await callbacks.onGone(rel)
                continue
            }
            if !fact.sameState(as: c.fact) {
                candidates[rel] = Candidate(fact: fact, lastChange: now, closed: c.closed)
                continue
            }
            let quiet = now - c.lastChange
            // Polled: stillness alone is weak evidence (no close is seen), so it takes several scans too.
            let scansOK = !polling || c.stableScans >= Self.pollStableScans
            // A file with other hard links is waited for like an open file, in both modes: a close here
            // (or a quiet scan) says nothing of a writer filling it through its other name.
            let closed = c.closed && fact.links <= 1
            if (closed && quiet >= settle && scansOK) || (quiet >= staleOpenAfter && scansOK) {
                if config.readyMarker, scanner.stat(relPath: rel + Self.markerSuffix) == nil {
                    awaitingMarker.insert(rel)
                    continue
                }
                ready.append(fact)
            }
        }
        // While settled files are being checked and reported one by one, their partners must not give
        // up on them: every file of the batch is listed as pending (even on the first tick, when nothing
        // was listed yet) until it is recorded, and the set says "busy" until the batch is through.
        if !ready.isEmpty { pending.startBatch(Set(candidates.keys)) }
        defer { pending.set(Set(candidates.keys)) }
        // At most `maxReportsPerTick` a tick: the rest stay candidates and are reported at the next ticks,
        // in turn with whatever settled meanwhile — a good pair copied in just after 10,000 sidecars is
        // reported with the next batch, not after all of them.
        for fact in Self.fairOrder(ready).prefix(Self.maxReportsPerTick) {
            guard await callbacks.isWhole(fact) else {
                // Still arriving (a header closed before its media, a half-written sidecar): another
                // settle window, or sooner if it changes.
                candidates[fact.relPath] = Candidate(
                    fact: fact, lastChange: clock.now(), closed: true,
                    stableScans: candidates[fact.relPath]?.stableScans ?? 0)
                continue
            }
            // The fact reported must be the version that was checked: polled facts come from the last scan,
            // and under inotify the stat above came before the check, which reads the file by its name — a
            // browser's finished download renamed over the empty file it made first, in between, was checked
            // whole as the new file and then recorded with the empty one's fact (0 bytes, the old inode), and
            // the drop made of it was withdrawn `source_changed` a moment later. A file that moved on
            // meanwhile is not settled.
            if let current = scanner.stat(relPath: fact.relPath), !current.sameState(as: fact) {
                candidates[fact.relPath] = Candidate(fact: current, lastChange: clock.now(), closed: true)
                continue
            }
            candidates[fact.relPath] = nil
            emitted[fact.relPath] = fact
            await callbacks.onComplete(fact)
            // Recorded first, unlisted after: no moment finds it in neither place.
            pending.remove(fact.relPath)
        }
    }
}

extension InboxWatcher {
    /// Settled files in the order they are reported: round-robin across folders, each folder's in name
    /// order. Recording a file is a ledger transaction, so a folder where 10,000 files settled at once
    /// takes seconds to report; another folder's clip and sidecar settling beside them are reported among
    /// the first, not after all of them.
    static func fairOrder(_ ready: [FileFact]) -> [FileFact] {
        let byFolder = Dictionary(grouping: ready) { PathText.parent($0.relPath) }
        var queues = byFolder.keys.sorted().map { byFolder[$0]!.sorted { $0.relPath < $1.relPath } }
        var out: [FileFact] = []
        out.reserveCapacity(ready.count)
        var round = 0
        while !queues.isEmpty {
            for q in queues { out.append(q[round]) }
            round += 1
            queues.removeAll { $0.count <= round }
        }
        return out
    }
}

/// The files a watcher has seen but not yet reported complete (being written, settling, or still
/// arriving), shared with the pipeline so a partner's grace does not run out while one is written.
package final class PendingFiles: @unchecked Sendable {
    private let lock = NSLock()
    private var paths = Set<String>()
    private var reporting = false
    private var rechecks = Set<String>()
    private var bell: Wakeup?
    /// Counts changes to `paths`, so a reader can keep what it derived from them until they change.
    private var generation = 0
    package init() {}
    /// The watcher's doorbell, so a recheck asked for wakes an idle watcher.
    var doorbell: Wakeup? {
        get { lock.withLock { bell } }
        set { lock.withLock { bell = newValue } }
    }
    /// Asks the watcher to look at `path` again: the pipeline found it changed since it was recorded.
    package func recheck(_ path: String) {
        lock.withLock { _ = rechecks.insert(path) }
        doorbell?.ring()
    }
    func drainRechecks() -> Set<String> {
        lock.withLock {
            defer { rechecks.removeAll() }; return rechecks
        }
    }
    /// The candidates after a tick; the batch of reports is over.
    func set(_ p: Set<String>) {
        lock.lock()
        if p != paths { paths = p; generation &+= 1 }
        reporting = false
        lock.unlock()
    }
    /// A batch of reports begins: everything still a candidate (the batch included) is pending.
    func startBatch(_ p: Set<String>) {
        lock.lock()
        if p != paths { paths = p; generation &+= 1 }
        reporting = true
        lock.unlock()
    }
    /// One file of the batch was recorded.
    func remove(_ path: String) { lock.lock(); if paths.remove(path) != nil { generation &+= 1 }; lock.unlock() }
    package var snapshot: Set<String> { lock.lock(); defer { lock.unlock() }; return paths }
    /// The pending paths and the count of changes they have seen: equal counts, equal paths.
    package var versioned: (paths: Set<String>, generation: Int) { lock.lock(); defer { lock.unlock() }; return (paths, generation) }
    /// True while the watcher is checking and reporting a batch of settled files.
    package var busy: Bool { lock.lock(); defer { lock.unlock() }; return reporting }
}
