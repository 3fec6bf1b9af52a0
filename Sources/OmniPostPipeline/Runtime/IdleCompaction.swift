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
    }
    private let state = Mutex(State())
    private let compact: @Sendable () -> Void

    /// `compact`: what runs once all members are quiet and their writers shrunk — glibc's freed chunks
    /// (`ReturnFreedMemory`), then the mapped code (`MappedCode.compact`); a test counts its calls.
    init(compact: @escaping @Sendable () -> Void = { ReturnFreedMemory.now(); MappedCode.compact() }) {
        self.compact = compact
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
        group.notify(queue: .global(qos: .utility)) { compact() }
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
