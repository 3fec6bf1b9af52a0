import Foundation
import OmniPostCore
import OmniPostLedger

/// Pairs complete files into drops: a clip and its same-stem sidecar (or a sidecar naming the clip
/// with `clip:`) become one drop once both are complete; a clip-list manifest becomes one drop per
/// listed clip as each clip completes. A clip alone waits `sidecar.grace`, then goes on without a
/// sidecar (the validate stage applies the pipeline's `missing` policy); a sidecar or manifest entry
/// whose clip does not arrive within the grace becomes a drop that fails `missing_clip`.
struct AssembleStage: Stage {
    let name = "assemble"
    let ctx: PipelineContext
    var rungBy: Wakeup.Topic { .files }
    /// What each waiting sidecar names with `clip:` (nil: nothing), read once per file rather than on every pass.
    private let namedClips = NamedClipCache()
    /// How long the last pass took and when it ended.
    private let pace = PassPace()
    /// The oldest waiting file's time as the last pass read it, when that pass paired nothing: its
    /// deadline is known without a second read (issue 30: a read transaction each time the loop slept).
    private let lastLook = WaitingLook()

    func step() async throws -> Bool {
        // Every file recorded rings this stage, and a pass reads every waiting file: while thousands are
        // recorded one by one, passes back to back would cost the number of files squared. A pass waits,
        // after the previous one, as long as that one took — at most half a core, and never more than one
        // pass's time late for a pair that has just arrived.
        if let rest = pace.rest() { try await Task.sleep(for: rest) }
        let started = ContinuousClock.now
        defer { pace.passed(since: started) }
        lastLook.forget()
        // Sidecars still on their way, asked before the ledger is read: a rival is then either here, or
        // in `waiting`, or arrived after this pass looked (validation sees it and pairs again).
        let pendingSidecars = ctx.arriving.pendingSidecarsByKey()
        // A waiting file that the watcher is seeing written again (a sidecar saved over in place) is a
        // superseded version: it never pairs — its newest version replaces its row once complete.
        let rewriting = ctx.arriving.writing.snapshot
        let read = try ctx.ledger.waitingFiles()
        // What `oldestWaitingFileTime` would answer now (the same rows: waiting, not `other`), kept for
        // `nextDeadline` should this pass pair nothing. A file recorded after this read rings the stage,
        // whose loop took its ticket before the pass, so it looks again rather than sleep to this deadline.
        let oldest = read.lazy.filter { $0.role != .other }.map(\.completedAt).min()
        let waiting = read.filter { !rewriting.contains($0.path) }
        let sidecarCount = waiting.lazy.filter { $0.role == .sidecar }.count
        if namedClips.count > sidecarCount * 2 + 1000 { namedClips.keep(only: Set(waiting.lazy.filter { $0.role == .sidecar }.map(Self.peekKey))) }
        if waiting.isEmpty {
            lastLook.keep(oldest)
            return false
        }
        let now = ctx.now.timeIntervalSince1970
        let grace = ctx.config.sidecar.grace.seconds
        var clipsByPath: [String: FileRecord] = [:]
        var clipsByKey: [String: FileRecord] = [:]
        for f in waiting where f.role == .clip {
            clipsByPath[f.path] = f
            for k in DropNaming.clipKeys(f.path) where clipsByKey[k] == nil { clipsByKey[k] = f }
        }
        var used = Set<Int64>()
        var made = false
        // Lone decisions ask the watcher, then a ledger read taken once per pass (after the first ask),
        // indexed by pairing key: thousands of lone sidecars are decided in one pass without a scan each.
        var fresh: WaitingPartners?
        func partnerOnItsWay(_ keys: [String], role: FileRecord.Role) throws -> Bool {
            if ctx.arriving.any(pairingWith: keys) { return true }
            if fresh == nil { fresh = WaitingPartners(try ctx.ledger.waitingFiles()) }
            return try ctx.partnerOnItsWay(keys, role: role, waiting: fresh)
        }

        // Clip lists first: the clips they name are theirs, never lone clips.
        for m in waiting where m.role == .manifest {
            guard let mid = m.id else { continue }
            used.insert(mid)
            made = try assembleList(m, clipsByPath: clipsByPath, used: &used, expired: now - m.completedAt >= grace) || made
        }
        let others = Dictionary(waiting.filter { $0.role == .other }.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        // Waiting sidecars by the stems they pair by, to find a second sidecar for the same clip.
        var sidecarsByKey: [String: [FileRecord]] = [:]
        // …and by the clip each names (`clip: v.mp4`): two sidecars naming one clip are as ambiguous as
        // `c.yaml` beside `c.json` (the first to be paired used to win, silently).
        var sidecarsByNamedClip: [String: [FileRecord]] = [:]
        for r in waiting where r.role == .sidecar {
            for k in DropNaming.sidecarKeys(r.path) { sidecarsByKey[k, default: []].append(r) }
            // Pairing prefers the stem: a sidecar beside a clip of its own name is that clip's, whatever it names.
            if let named = await peek(sidecar: r).clip, !DropNaming.sidecarKeys(r.path).contains(where: { clipsByKey[$0] != nil }) {
                sidecarsByNamedClip[named, default: []].append(r)
            }
        }
        for s in waiting where s.role == .sidecar {
            guard let sid = s.id else { continue }
            // A slideshow sidecar is a drop of its own once its images (and soundtrack) are complete.
            if let assets = await peek(sidecar: s).slideshowAssets {
                let present = assets.compactMap { others[$0] }
                if present.count == assets.count || now - s.completedAt >= grace {
                    used.insert(sid)
                    made = try makeDrop(clip: nil, sidecar: s, assets: present) || made
                }
                continue
            }
            let peeked = await peek(sidecar: s)
            if peeked.escapes {
                // `clip: ../../etc/passwd` is answered `path_escape` at once, not `missing_clip` after the grace.
                used.insert(sid)
                made = try makeDrop(clip: nil, sidecar: s) || made
                continue
            }
            var clip = DropNaming.sidecarKeys(s.path).lazy.compactMap { clipsByKey[$0] }.first { !used.contains($0.id ?? -1) }
            if clip == nil, let named = peeked.clip { clip = clipsByPath[named] }
            if let c = clip, let cid = c.id, !used.contains(cid) {
                // `c.yaml` and `c.json` both waiting for `c.mp4`: one drop takes all three and fails
                // `ambiguous_sidecar` naming both, rather than one being picked silently.
                var rivals: [FileRecord] = []
                for r in DropNaming.clipKeys(c.path).flatMap({ sidecarsByKey[$0] ?? [] }) + (sidecarsByNamedClip[c.path] ?? [])
                where r.id != sid && !used.contains(r.id ?? -1) && !rivals.contains(where: { $0.id == r.id }) {
                    rivals.append(r)
                }
                // A second sidecar for this clip still being written or settling: wait for it, so the
                // ambiguity is seen whole rather than the first one to settle winning.
                if DropNaming.clipKeys(c.path).contains(where: { (pendingSidecars[$0] ?? []).contains { $0 != s.path } }) { continue }
                // Its subtitle tracks are part of the drop: one still arriving (beside the clip, or listed
                // in `subtitles:`) is waited for, up to the grace.
                let listed = peeked.subtitles.filter { others[$0] == nil }
                if now - s.completedAt < grace, ctx.arriving.anySubtitle(of: Self.stem(c.path)) || !listed.isEmpty { continue }
                used.insert(cid); used.insert(sid)
                for r in rivals { used.insert(r.id ?? -1) }
                let tracks = subtitles(of: c, in: others, listed: peeked.subtitles)
                for t in tracks { used.insert(t.id ?? -1) }
                made = try makeDrop(clip: c, sidecar: s, assets: rivals + tracks) || made
            } else if now - s.completedAt >= grace, try !partnerOnItsWay(DropNaming.sidecarKeys(s.path) + [peeked.clip].compactMap { $0 }, role: .clip) {
                // (Its clip still being written or arriving keeps it waiting past the grace.)
                used.insert(sid)
                made = try makeDrop(clip: nil, sidecar: s) || made
            }
        }
        for c in waiting where c.role == .clip {
            guard let cid = c.id, !used.contains(cid), now - c.completedAt >= grace,
                try !partnerOnItsWay(DropNaming.clipKeys(c.path), role: .sidecar), !ctx.arriving.anySubtitle(of: Self.stem(c.path))
            else { continue }
            used.insert(cid)
            let tracks = subtitles(of: c, in: others, listed: [])
            for t in tracks { used.insert(t.id ?? -1) }
            made = try makeDrop(clip: c, sidecar: nil, assets: tracks) || made
        }
        if !made { lastLook.keep(oldest) }
        return made
    }

    /// The moment the oldest waiting file's grace runs out.
    func nextDeadline() throws -> Date? {
        let looked = lastLook.take()
        guard let oldest = try looked ?? ctx.ledger.oldestWaitingFileTime() else { return nil }
        let due = oldest + ctx.config.sidecar.grace.seconds
        // A partner still arriving holds a file past its grace: look again in a moment, not in a spin
        // (recording the arrived file rings the stage anyway).
        if ctx.arriving.count > 0 { return Date(timeIntervalSince1970: max(due, ctx.now.timeIntervalSince1970 + 0.5)) }
        return Date(timeIntervalSince1970: due)
    }

    /// One drop per entry whose clip is complete (or whose grace ran out). A manifest that cannot be
    /// read becomes one drop that the validate stage rejects with the manifest's own error.
    private func assembleList(_ m: FileRecord, clipsByPath: [String: FileRecord], used: inout Set<Int64>, expired: Bool) throws -> Bool {
        guard let mid = m.id else { return false }
        let list: ClipList
        do {
            let abs = try InboxPaths.resolveInside(inbox: ctx.paths.inbox.path, relative: m.path)
            list = try ctx.clipLists.load(path: abs, displayName: m.path, maxEntries: ctx.config.sidecar.maxListEntries)
        } catch {
            let ok = try makeDrop(clip: nil, sidecar: m, entry: nil)
            return ok
        }
        let existing = try ctx.ledger.drops(fromManifestFile: mid)
        let dir = PathText.parent(m.path)
        var made = false
        var remaining = 0
        for (i, entry) in list.entries.enumerated() where existing[i] == nil {
            if entry.candidates.contains(where: { Self.escapes(dir, $0) }) {
                // An entry naming a file outside the inbox fails `path_escape` now, not after the grace.
                made = try makeDrop(clip: nil, sidecar: m, entry: i) || made
                continue
            }
            let clip = entry.candidates.lazy.map { Self.join(dir, $0) }.compactMap { clipsByPath[$0] }.first { !used.contains($0.id ?? -1) }
            if let c = clip, let cid = c.id {
                used.insert(cid)
                made = try makeDrop(clip: c, sidecar: m, entry: i) || made
            } else if expired, !ctx.arriving.any(pairingWith: entry.candidates.map { Self.join(dir, $0) }) {
                made = try makeDrop(clip: nil, sidecar: m, entry: i) || made
            } else {
                remaining += 1
                // Keep the lone-clip rule away from the clips this list will claim.
                for cand in entry.candidates { if let c = clipsByPath[Self.join(dir, cand)], let cid = c.id { used.insert(cid) } }
            }
        }
        if remaining == 0 { try ctx.ledger.takeFile(id: mid) }
        return made
    }

    /// A reference that climbs out of the inbox (or is absolute), written relative to `dir`.
    static func escapes(_ dir: String, _ ref: String) -> Bool {
        ref.hasPrefix("/") || InboxPaths.normalized(dir.isEmpty ? ref : dir + "/" + ref) == nil
    }

    /// The clip's path without its extension: what its subtitle files are named after (`clip.en.srt`).
    static func stem(_ clipPath: String) -> String { (clipPath as NSString).deletingPathExtension }

    /// The waiting subtitle files of clip `c`: those named after it and those its sidecar lists.
    func subtitles(of c: FileRecord, in others: [String: FileRecord], listed: [String]) -> [FileRecord] {
        let stem = Self.stem(c.path)
        let beside = others.values.filter { SubtitleTrack.language(of: $0.path, stem: stem) != nil }
        let named = listed.compactMap { others[$0] }.filter { f in !beside.contains { $0.id == f.id } }
        return (beside + named).sorted { $0.path < $1.path }
    }

    static func join(_ dir: String, _ rel: String) -> String {
        ((dir.isEmpty ? rel : dir + "/" + rel) as NSString).standardizingPath
    }

    /// What a waiting sidecar names — its clip, or a slideshow's files — read once per file, not on every pass.
    static func peekKey(_ sidecar: FileRecord) -> String { "\(sidecar.id ?? 0):\(sidecar.inode):\(sidecar.mtime)" }

    private func peek(sidecar: FileRecord) async -> SidecarPeek {
        let key = Self.peekKey(sidecar)
        if let cached = namedClips.get(key) { return cached }
        var peek = SidecarPeek()
        // Only a sidecar whose real path is inside the inbox is read at all (a link to /etc/… is not).
        // Read under a deadline on progress, like every read of a user's file: a sidecar on a hung mount
        // is skipped here (validation then reports it), never a frozen pairing stage.
        if let abs = try? InboxPaths.resolveInside(inbox: ctx.paths.inbox.path, relative: sidecar.path),
            let m = await Self.parsed(abs, named: sidecar.path, ctx.sidecars)
        {
            let dir = PathText.parent(sidecar.path)
            peek.clip = m.clip.map { Self.join(dir, $0) }
            peek.escapes = m.clip.map { Self.escapes(dir, $0) } ?? false
            peek.subtitles = (m.subtitles ?? []).map { Self.join(dir, $0.file) }
            if let show = m.slideshow {
                peek.slideshowAssets = (show.images.map(\.file) + [show.audio].compactMap { $0 }).map { Self.join(dir, $0) }
            }
        }
        namedClips.set(key, peek)
        return peek
    }

    /// A waiting sidecar's parse, kept from the arrival check as a rule (then no read, and no thread for
    /// one); else read under a deadline on progress. Nil when it does not parse.
    static func parsed(_ abs: String, named: String, _ sidecars: SidecarCache) async -> Manifest? {
        switch sidecars.lookup(path: abs, displayName: named) {
        case .hit(let kept): return try? kept.get()
        case .miss(let key):
            return try? await StallGuard.run("reading \(named)", stall: .seconds(10), { _ in try sidecars.read(path: abs, displayName: named, key: key) })
        }
    }

    private func makeDrop(clip: FileRecord?, sidecar: FileRecord?, entry: Int? = nil, assets: [FileRecord] = []) throws -> Bool {
        let main = clip ?? sidecar!
        let stem = ((main.path as NSString).lastPathComponent as NSString).deletingPathExtension
        var drop = DropRecord(
            id: DropNaming.newID(stem: stem), pipeline: ctx.config.name, stem: stem, clipPath: clip?.path,
            sidecarPath: sidecar?.path, now: ctx.now.timeIntervalSince1970)
        // A clip list is shared by its drops: it is not taken by any one of them.
        var files = [clip?.id].compactMap { $0 } + assets.compactMap(\.id)
        if sidecar?.role == .manifest, entry != nil {
            drop.sourceFileId = sidecar?.id
            drop.manifestEntry = entry
        } else if let sid = sidecar?.id {
            files.append(sid)
        }
        // The drop's `received` transition rings the validate lanes (WorkRings).
        return try ctx.ledger.createDrop(drop, fileIDs: files)
    }
}

struct SidecarPeek: Sendable {
    var clip: String?
    /// `clip:` points outside the inbox.
    var escapes = false
    var slideshowAssets: [String]?
    /// The subtitle files `subtitles:` lists, inbox-relative.
    var subtitles: [String] = []
}

final class NamedClipCache: @unchecked Sendable {
    private let lock = NSLock()
    private var map: [String: SidecarPeek] = [:]
    func get(_ k: String) -> SidecarPeek? { lock.lock(); defer { lock.unlock() }; return map[k] }
    func set(_ k: String, _ v: SidecarPeek) {
        lock.lock()
        map[k] = v
        lock.unlock()
    }
    /// Forgets the sidecars no longer waiting. (Emptying the whole cache at a fixed size instead made
    /// every pass over 10,000 waiting sidecars read and parse all of them again.)
    func keep(only live: Set<String>) {
        lock.lock()
        map = map.filter { live.contains($0.key) }
        lock.unlock()
    }
    var count: Int { lock.lock(); defer { lock.unlock() }; return map.count }
}

/// The assembler's pace: the previous pass's length and end.
final class PassPace: @unchecked Sendable {
    private let lock = NSLock()
    private var last: (took: Duration, ended: ContinuousClock.Instant)?

    /// How long to wait before the next pass (nil: go now). Passes of a few ms are never held back.
    func rest() -> Duration? {
        lock.withLock {
            guard let last, last.took > .milliseconds(5) else { return nil }
            let due = last.ended + min(last.took, .seconds(1))
            let now = ContinuousClock.now
            return due > now ? due - now : nil
        }
    }

    func passed(since start: ContinuousClock.Instant) {
        let now = ContinuousClock.now
        lock.withLock { last = (now - start, now) }
    }
}

/// The oldest waiting file's time (nil: none waits) as a pass that paired nothing read it, taken once by
/// the loop's `nextDeadline` after that pass.
final class WaitingLook: @unchecked Sendable {
    private let lock = NSLock()
    private var oldest: Double??
    func keep(_ t: Double?) { lock.withLock { oldest = .some(t) } }
    func forget() { lock.withLock { oldest = nil } }
    func take() -> Double?? {
        lock.withLock {
            defer { oldest = nil }
            return oldest
        }
    }
}
