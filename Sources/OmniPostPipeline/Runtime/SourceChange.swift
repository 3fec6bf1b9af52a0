import Foundation
import OmniPostCore
import OmniPostLedger
#if canImport(Glibc)
    import Glibc
#endif

extension PipelineContext {
    /// How a drop's file differs from the version the watcher recorded complete (and the drop took), or
    /// nil when it is that file still — or is gone (a deletion is not a new version). Asked before any
    /// answer that would file the file away: a clip truncated and rewritten by a re-export makes the
    /// drop that took the first export fail (`truncated_file`, an ffmpeg error…) only because the new
    /// export is being written — that drop is withdrawn instead, and the finished file comes in anew.
    /// `rows`: the drop's file rows, when the caller has read them already (one read for a drop's clip and sidecar).
    func changedSinceTaken(_ drop: DropRecord, path: String?, rows: [FileRecord]? = nil) throws -> String? {
        guard let path else { return nil }
        guard let row = try (rows ?? ledger.files(ofDrop: drop.id)).first(where: { $0.path == path }) else { return nil }
        // Reached without following a link on the way: a folder swapped for a link is not "a new version"
        // (whoever reads or files the file finds it unreachable and says so).
        guard case .here(let taken) = TakenFile.locate(path, in: try openInbox()) else { return nil }
        return taken.change(from: row)
    }

    /// `changedSinceTaken`, and when the file did change, the watcher is asked to look at it again: a
    /// change it never saw (written through a hard link) would otherwise never come in as a new version.
    func changedSinceTakenNoted(_ drop: DropRecord, path: String?, rows: [FileRecord]? = nil) throws -> String? {
        guard let path, let why = try changedSinceTaken(drop, path: path, rows: rows) else { return nil }
        arriving.writing.recheck(path)
        return why
    }

    /// `SourceChanged` for a drop whose clip (or, with `sidecar`, its sidecar) is no longer the version it took.
    func sourceChange(_ drop: DropRecord, when: String, rows known: [FileRecord]? = nil) throws -> SourceChanged? {
        guard drop.clipPath != nil || (drop.sidecarPath != nil && drop.manifestEntry == nil) else { return nil }
        let rows = try known ?? ledger.files(ofDrop: drop.id)
        if let clip = drop.clipPath, let why = try changedSinceTakenNoted(drop, path: clip, rows: rows) {
            return SourceChanged(reason: "\(clip) changed \(when) (\(why)); it comes in again as a new drop")
        }
        if let s = drop.sidecarPath, drop.manifestEntry == nil, let why = try changedSinceTakenNoted(drop, path: s, rows: rows) {
            return SourceChanged(reason: "\(s) changed \(when) (\(why)); the clip pairs again with its newest version", keepsClip: true, path: s)
        }
        return nil
    }
}

/// One at a time, across tasks: the part of validation that reads what other drops have claimed (a
/// duplicate's earlier delivery, a taken publishing slot) and writes its own claim, so two validate
/// workers never both see "not yet taken".
final class SerialGate: @unchecked Sendable {
    private let lock = NSLock()
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            lock.lock()
            if held { waiters.append(c); lock.unlock() } else { held = true; lock.unlock(); c.resume() }
        }
    }

    func release() {
        lock.lock()
        if waiters.isEmpty { held = false; lock.unlock() } else { let next = waiters.removeFirst(); lock.unlock(); next.resume() }
    }
}

/// A worker's hold on a `SerialGate`, released once however the work ends. With a ledger, the
/// ledger's decisions lock too (`Ledger.holdDecisions`): on a shared ledger the other hosts' validate
/// workers wait for it as this host's do for the gate.
final class GateHold: @unchecked Sendable {
    private let gate: SerialGate
    private let ledger: Ledger?
    private let lock = NSLock()
    private var holding = false
    private var decisions: Ledger.DecisionHold?
    init(_ gate: SerialGate, ledger: Ledger? = nil) {
        self.gate = gate
        self.ledger = ledger
    }
    /// The gate first, then the ledger's lock: a host's own workers queue here, not on the database.
    func acquire() async throws {
        await gate.acquire()
        lock.withLock { holding = true }
        guard let ledger else { return }
        do {
            let held = try await ledger.holdDecisions()
            lock.withLock { decisions = held }
        } catch {
            try OmniError.passCancellation(error)
            throw Unavailable(error: error)
        }
    }

    /// The ledger's decisions lock could not be taken (the database refused another connection, or is
    /// gone): nothing is wrong with the drop, so it is not rejected — the step fails, and the drop is
    /// validated again once its claim's lease lapses.
    struct Unavailable: Error, CustomStringConvertible {
        var error: any Error
        var description: String { "the ledger's decisions lock could not be taken: \(error)" }
    }
    func release() {
        let (was, held) = lock.withLock { () -> (Bool, Ledger.DecisionHold?) in
            defer {
                holding = false
                decisions = nil
            }
            return (holding, decisions)
        }
        held?.release()
        if was { gate.release() }
    }
}
