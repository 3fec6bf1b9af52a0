import Foundation
import OmniPostCore
import Synchronization

/// The process-wide step of `IdleMemory` (issue 30): the mappings and glibc's arenas are the process's,
/// shared by every pipeline it runs, so they are given back once per quiet spell of the whole process —
/// when every pipeline has been quiet for `IdleMemory.quiet` — not once per pipeline (8 pipelines were 8
/// `malloc_trim`s and 8 reads of smaps), and never while another pipeline is busy (whose pages would
/// only fault back). Each pipeline is a `Member`: busy from the moment it joins (start-up is work) and
/// whenever its doorbell rings, quiet once `IdleMemory` found it so. When the last busy member goes
/// quiet, every member's ledger writer gives back its page cache first (`Ledger.releaseIdleMemory`),
/// then `compact` runs, once, on a utility queue.
final class IdleCompaction: Sendable {
    /// The daemon's own: one per process.
    static let process = IdleCompaction()

    private struct State {
        var members: [UInt64: (busy: Bool, shrink: @Sendable (@escaping @Sendable () -> Void) -> Void)] = [:]
        var nextId: UInt64 = 0
        /// The quiet spell under way was compacted already: nothing more to give back until work comes.
        var compacted = false
        /// The process's file-backed resident KiB just after the last compaction of code: what the periodic
        /// work of a quiet spell maps back is measured from it (`afterPeriodicWork`).
        var fileKiBCompacted: Int?
    }
    private let state = Mutex(State())
    private let compact: @Sendable () -> Void
    private let compactCode: @Sendable () -> Void
    private let fileResidentKiB: @Sendable () -> Int

    /// How much code the periodic work of a quiet spell may map back before it is dropped again. A safety-net
    /// round mapped ~7 MiB of the binary's and libraries' code back, the notifiers' minute ~6 MiB more (the
    /// kernel maps 64 KiB around each fault): an idle daemon at 24 MiB just after its compaction sat at
    /// 38 MiB from its second minute on, against a goal of 40.
    static let regrowthKiB = 2048

    /// `compact`: what runs once all members are quiet and their writers shrunk — glibc's freed chunks
    /// (`ReturnFreedMemory`), then the mapped code (`MappedCode.compact`); `compactCode`: the code alone,
    /// again after periodic work; `fileResidentKiB`: the process's file-backed resident KiB. Tests count the
    /// calls and set the figure.
    init(
        compact: @escaping @Sendable () -> Void = { ReturnFreedMemory.now(); MappedCode.compact() },
        compactCode: @escaping @Sendable () -> Void = { MappedCode.recompact() },
        fileResidentKiB: @escaping @Sendable () -> Int = { MappedCode.fileResidentKiB() }
    ) {
        self.compact = compact
        self.compactCode = compactCode
        self.fileResidentKiB = fileResidentKiB
    }

    /// The file-backed KiB the last compaction left (nil: none yet, or one under way).
    var compactedFileKiB: Int? { state.withLock { $0.fileKiBCompacted } }

    /// The safety net's round (and the notifiers' minute it rings) ran a moment ago in a quiet spell that
    /// was compacted already. That work announces none (`IdleMemory.work`), so the spell stays compacted —
    /// but the code it ran was faulted back in and would stay mapped for the rest of the spell. If the
    /// file-backed pages grew by `regrowthKiB` since the last compaction, the mappings the spell's
    /// compaction dropped are dropped again (`MappedCode.recompact`: checked against /proc/self/maps, not
    /// smaps). The page cache keeps the code: the next round's ~350 faults are minor ones.
    func afterPeriodicWork() {
        let quietAndCompacted = state.withLock { s in
            s.compacted && s.fileKiBCompacted != nil && !s.members.isEmpty && s.members.values.allSatisfy { !$0.busy }
        }
        guard quietAndCompacted else { return }
        let now = fileResidentKiB()
        let grown = state.withLock { s -> Bool in
            guard let base = s.fileKiBCompacted, now - base >= Self.regrowthKiB else { return false }
            s.fileKiBCompacted = nil  // one compaction at a time; set again when it is done
            return true
        }
        guard grown else { return }
        compactCode()
        let after = fileResidentKiB()
        state.withLock { $0.fileKiBCompacted = after }
    }

    /// One pipeline of the process. `shrink` gives back its ledger writer's cache and then calls its
    /// argument (`Ledger.releaseIdleMemory(then:)`).
    final class Member: Sendable {
        let id: UInt64
        let owner: IdleCompaction
        init(id: UInt64, owner: IdleCompaction) {
            self.id = id
            self.owner = owner
        }
        /// The pipeline found no ring for `IdleMemory.quiet`: the process compacts if it was the last busy one.
        func quiet() { owner.set(id, busy: false) }
        /// The pipeline's doorbell rang: work again.
        func busy() { owner.set(id, busy: true) }
        /// The pipeline closed (a reload, the end).
        func leave() { owner.state.withLock { _ = $0.members.removeValue(forKey: id) } }
    }

    func join(shrink: @escaping @Sendable (@escaping @Sendable () -> Void) -> Void) -> Member {
        let id = state.withLock { s -> UInt64 in
            s.nextId &+= 1
            s.members[s.nextId] = (busy: true, shrink: shrink)
            s.compacted = false
            return s.nextId
        }
        return Member(id: id, owner: self)
    }

    private func set(_ id: UInt64, busy: Bool) {
        let shrinks = state.withLock { s -> [@Sendable (@escaping @Sendable () -> Void) -> Void]? in
            guard s.members[id] != nil else { return nil }
            s.members[id]!.busy = busy
            if busy {
                s.compacted = false
                return nil
            }
            guard !s.compacted, s.members.values.allSatisfy({ !$0.busy }) else { return nil }
            s.compacted = true
            s.fileKiBCompacted = nil  // set when this compaction is done
            return s.members.values.map(\.shrink)
        }
        guard let shrinks else { return }
        // Each writer's freed cache goes to glibc before the trim: a trim before another writer's shrink
        // would leave that one's pages in glibc's arenas (1.7 MiB of RssAnon with 8 pipelines).
        let group = DispatchGroup()
        for shrink in shrinks {
            group.enter()
            shrink { group.leave() }
        }
        let compact = compact
        group.notify(queue: .global(qos: .utility)) {
            compact()
            let after = self.fileResidentKiB()
            self.state.withLock { $0.fileKiBCompacted = after }
        }
    }
}

/// glibc's `malloc_trim(0)`, looked up at run time: it is not in Swift's Glibc module, and a libc
/// without it (musl) simply has nothing to call. Called once per quiet spell of the process
/// (`IdleCompaction`): glibc keeps freed chunks in its arenas otherwise, and the RSS would not move.
enum ReturnFreedMemory {
    private typealias Trim = @convention(c) (Int) -> Int32
    private static let trim: Trim? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim").map { unsafeBitCast($0, to: Trim.self) }

    static func now() { _ = trim?(0) }
}
