import Foundation
import OmniPostCore
import OmniPostIngest
import OmniPostLedger
import OmniPostMedia

/// The pipeline's answer to the watcher's "is this settled file whole?": a clip whose container is
/// cut short (MP4 boxes or index pointing past the end, no `moov` yet, a Matroska segment longer than
/// the file, 0 bytes) or a sidecar that does not parse yet is *still arriving* — it is not recorded,
/// so no drop, pairing or sidecar is consumed on it. Once it has stayed incomplete *and unchanged* for
/// `limit` (10 × settle, at least the sidecar grace) it is recorded anyway and validation answers with
/// the specific code; a file that keeps growing keeps waiting.
final class ArrivalCheck: Sendable {
    let ctx: PipelineContext
    let limit: Duration
    var waiting: ArrivingFiles { ctx.arriving }

    init(ctx: PipelineContext, limit: Duration) {
        self.ctx = ctx
        self.limit = limit
    }

    func isWhole(_ fact: FileFact) async -> Bool {
        // A link out of the inbox is not read here either: validation answers it with `path_escape`.
        guard let path = try? InboxPaths.resolveInside(inbox: ctx.paths.inbox.path, relative: fact.relPath) else { return true }
        let role = DropNaming.role(of: fact.relPath)
        // A sidecar found not to parse before, in the same version (no write since: same inode, size and
        // mtime), is not read and parsed again at each settle window until the limit: a broken sidecar was
        // read ten times before it was recorded (issue 30). Any change is a new version, looked at afresh.
        // (A clip's header is read again each time: its check is cheap, and a clip is what an editor
        // rewrites in place.)
        let verdict: Completeness.Verdict
        var read = false
        if role == .sidecar || role == .manifest, let why = waiting.incompleteBefore(fact) {
            verdict = .incomplete(why)
        } else if let v = try? await StallGuard.run(
            "checking \(fact.relPath)", stall: .seconds(10), { [ctx] _ in Self.verdict(path: path, role: role, named: fact.relPath, sidecars: ctx.sidecars) })
        {
            verdict = v
            read = true
        } else {
            // A hung read is not evidence of anything: treat it as still arriving, within the same limit
            // (and read again next time).
            verdict = .incomplete("it could not be read just now")
        }
        guard case .incomplete(let why) = verdict else {
            waiting.clear(fact.relPath)
            return true
        }
        let (since, first) = read && role != .clip ? waiting.mark(fact, why: why) : waiting.mark(fact.relPath, size: fact.size)
        if ContinuousClock.now - since >= limit {
            waiting.clear(fact.relPath)
            // Noted in the commit that records the file (`Pipeline.record`), not in one of its own.
            waiting.noteWhenRecorded(fact.relPath, "\(fact.relPath): \(why); taken as it is after \(DurationText.format(limit.seconds))")
            return true
        }
        if first {
            try? ctx.ledger.note(.arriving, stage: .watch, detail: "\(fact.relPath): \(why)")
            ctx.progress.line("  watch               waiting for the rest of \(fact.relPath) (\(why))")
        }
        return false
    }

    /// `named`: the path inside the inbox, as a sidecar's errors name it. A lone sidecar that is UTF-8
    /// text is parsed through `sidecars`, so the pairing and validation after it do not parse it again.
    static func verdict(path: String, role: FileRecord.Role, named: String? = nil, sidecars: SidecarCache? = nil) -> Completeness.Verdict {
        switch role {
        case .clip:
            return Completeness.video(path: path)
        case .sidecar, .manifest:
            // The version before the read: the cache keeps the parse of these bytes only if the file is
            // still that version after.
            let version = sidecars == nil ? nil : FileVersion.of(path: path)
            guard let data = try? UserFile.read(path: path, maxBytes: Manifest.maxBytes, tooLarge: .manifestTooLarge) else { return .complete }
            if data.isEmpty { return .incomplete("0 bytes so far") }
            // Only a syntax error means "not all here yet"; a wrong key is the user's, answered by validation.
            let text = String(decoding: data, as: UTF8.self)
            let utf8 = String(validating: data, as: UTF8.self) != nil
            if role == .sidecar, let sidecars, let named, !utf8, let bad = TextPosition.firstInvalidUTF8([UInt8](data)), bad + 4 <= data.count {
                // A byte that is no UTF-8 with room after it for any character: no more bytes can mend it
                // (a file cut short mid-character ends in one). Refused once here — `Manifest.load`'s very
                // error, kept for validation to take — rather than its lossy decoding parsed as YAML here and
                // the file read and refused again by validation (issue 30: what made junk the dearest kind).
                _ = try? sidecars.manifest(data: data, path: path, displayName: named, version: version)
                return .complete
            }
            do {
                // (Other bytes that are no UTF-8 are parsed as decoded, as ever: `Manifest.load` refuses them
                // unparsed with the same code a syntax error has, which here would read as "not all here".)
                if role == .sidecar, let sidecars, let named, utf8 {
                    // These bytes are parsed and kept, not the file read a second time.
                    _ = try sidecars.manifest(data: data, path: path, displayName: named, version: version)
                } else {
                    _ = try YAMLDocument.parse(text, file: path, syntaxCode: .manifestSyntax, invalidCode: .invalidValue)
                }
            } catch let e as OmniError where e.code == .manifestSyntax {
                // JSON that is whole and wrong (a trailing comma, `NaN`) will not mend by waiting: validation answers it now.
                if YAMLDocument.isJSON(file: path), !YAMLDocument.jsonEndsEarly(text) { return .complete }
                return .incomplete("it does not parse yet: \(e.message)")
            } catch {}
            return .complete
        case .other:
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 1
            return size == 0 ? .incomplete("0 bytes so far") : .complete
        }
    }
}

/// Since when each path has been found still arriving.
package final class ArrivingFiles: @unchecked Sendable {
    private let lock = NSLock()
    private var since: [String: (at: ContinuousClock.Instant, size: Int64)] = [:]
    /// Why each path was found incomplete, and the version (inode, size, mtime) that was.
    private var verdicts: [String: (version: FileVersion, why: String)] = [:]
    private struct FileVersion: Equatable {
        var inode: Int64, size: Int64, mtime: Double
        init(_ f: FileFact) { (inode, size, mtime) = (f.inode, f.size, f.mtime) }
    }
    /// A `gave up waiting` note per path, written with the file's record (one commit, not two).
    private var notes: [String: String] = [:]
    private var sinceGeneration = 0
    /// The pairing keys of every path still on its way, kept until either set changes: asked for each lone
    /// file a pass decides, a scan of thousands of pending paths each time would make a flood quadratic.
    private var keyIndex: (pending: Int, since: Int, keys: Set<String>)?
    private var sidecarIndex: (pending: Int, since: Int, byKey: [String: [String]])?
    /// The watcher's candidates: files still being written or settling.
    let writing: PendingFiles
    package init(writing: PendingFiles = PendingFiles()) { self.writing = writing }
    /// Since when `path` has been found incomplete at this size — a file that grew is making progress,
    /// so its clock starts again — and whether this is the first time it was found so.
    func mark(_ fact: FileFact, why: String) -> (ContinuousClock.Instant, Bool) {
        lock.lock()
        verdicts[fact.relPath] = (FileVersion(fact), why)
        lock.unlock()
        return mark(fact.relPath, size: fact.size)
    }

    /// Why this very version of the file was found incomplete before, if it was.
    func incompleteBefore(_ fact: FileFact) -> String? {
        lock.withLock { verdicts[fact.relPath].flatMap { $0.version == FileVersion(fact) ? $0.why : nil } }
    }

    func mark(_ path: String, size: Int64) -> (ContinuousClock.Instant, Bool) {
        lock.lock(); defer { lock.unlock() }
        if let s = since[path], s.size == size { return (s.at, false) }
        let first = since[path] == nil
        let now = ContinuousClock.now
        since[path] = (now, size)
        if first { sinceGeneration &+= 1 }
        return (now, first)
    }
    func noteWhenRecorded(_ path: String, _ detail: String) { lock.withLock { notes[path] = detail } }
    /// The note to write with `path`'s record, if one waits (taken: it is written once).
    func takeNote(_ path: String) -> String? { lock.withLock { notes.removeValue(forKey: path) } }

    func clear(_ path: String) {
        lock.lock()
        verdicts[path] = nil
        if since.removeValue(forKey: path) != nil { sinceGeneration &+= 1 }
        lock.unlock()
    }
    var count: Int {
        lock.lock(); defer { lock.unlock() }
        return since.count + writing.snapshot.count + (writing.busy ? 1 : 0)
    }
    /// Sidecars still being written, settling or arriving, by the clip stems they pair by (kept until
    /// the paths change: asked by every pairing pass and every validation).
    func pendingSidecarsByKey() -> [String: [String]] {
        let pending = writing.versioned
        lock.lock(); defer { lock.unlock() }
        if let cached = sidecarIndex, cached.pending == pending.generation, cached.since == sinceGeneration { return cached.byKey }
        var out: [String: [String]] = [:]
        for p in pending.paths.union(since.keys) where DropNaming.role(of: p) == .sidecar {
            for k in DropNaming.sidecarKeys(p) { out[k, default: []].append(p) }
        }
        sidecarIndex = (pending.generation, sinceGeneration, out)
        return out
    }

    /// Whether a subtitle file of the clip `stem` (`clip.en.srt` beside `clip.mp4`) is still being written
    /// or settling: the clip waits for it, since a track is part of the drop's file set.
    func anySubtitle(of stem: String) -> Bool {
        if writing.busy { return true }
        let pending = writing.snapshot
        lock.lock()
        let paths = Set(since.keys).union(pending)
        lock.unlock()
        return paths.contains { SubtitleTrack.language(of: $0, stem: stem) != nil }
    }

    /// Whether a file that would pair under one of `keys` (stems, inbox-relative) is still being
    /// written, settling, or arriving: its partner waits for it past the grace.
    func any(pairingWith keys: [String], waitOutBusy: Bool = true) -> Bool {
        // Mid-batch, a partner may be between "no longer pending" and "recorded": ask again after it.
        if waitOutBusy, writing.busy { return true }
        let pending = writing.versioned
        lock.lock(); defer { lock.unlock() }
        if keyIndex?.pending != pending.generation || keyIndex?.since != sinceGeneration {
            // A path pairs under `keys` when one of its own pairing keys is among them (`DropNaming.pairs`).
            var index = Set<String>()
            for p in pending.paths.union(since.keys) {
                index.formUnion(DropNaming.clipKeys(p))
                index.formUnion(DropNaming.sidecarKeys(p))
            }
            keyIndex = (pending.generation, sinceGeneration, index)
        }
        return keys.contains(where: keyIndex!.keys.contains)
    }
}
