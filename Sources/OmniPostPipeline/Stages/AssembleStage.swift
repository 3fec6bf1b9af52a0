import Foundation
import OmniPostCore
import OmniPostLedger

/// Pairs complete files into drops: a clip and its same-stem sidecar (or a sidecar naming the clip
/// with `clip:`) become one drop once both are complete. A clip alone waits `sidecar.grace`, then goes
/// on without a sidecar (the validate stage applies the pipeline's `missing` policy); a sidecar alone
/// waits the same grace and then becomes a drop that fails `missing_clip`.
struct AssembleStage: Stage {
    let name = "assemble"
    let ctx: PipelineContext

    func step() async throws -> Bool {
        let waiting = try ctx.ledger.waitingFiles()
        if waiting.isEmpty { return false }
        let now = ctx.now.timeIntervalSince1970
        let grace = ctx.config.sidecar.grace.seconds
        var clipsByKey: [String: FileRecord] = [:]
        for f in waiting where f.role == .clip {
            for k in DropNaming.clipKeys(f.path) where clipsByKey[k] == nil { clipsByKey[k] = f }
        }
        var used = Set<Int64>()
        var made = false

        for s in waiting where s.role == .sidecar {
            var clip = DropNaming.sidecarKeys(s.path).lazy.compactMap { clipsByKey[$0] }.first
            if clip == nil, let named = namedClip(sidecar: s) {
                clip = waiting.first { $0.role == .clip && $0.path == named }
            }
            if let c = clip, let cid = c.id, let sid = s.id, !used.contains(cid) {
                used.insert(cid); used.insert(sid)
                made = try makeDrop(clip: c, sidecar: s) || made
            } else if now - s.completedAt >= grace, let sid = s.id, !used.contains(sid) {
                used.insert(sid)
                made = try makeDrop(clip: nil, sidecar: s) || made
            }
        }
        for c in waiting where c.role == .clip {
            guard let cid = c.id, !used.contains(cid), now - c.completedAt >= grace else { continue }
            used.insert(cid)
            made = try makeDrop(clip: c, sidecar: nil) || made
        }
        return made
    }

    /// A sidecar may name its clip (`clip: take-3.mp4`), relative to the sidecar's folder.
    private func namedClip(sidecar: FileRecord) -> String? {
        guard let m = try? Manifest.load(path: ctx.inboxPath(sidecar.path), displayName: sidecar.path), let clip = m.clip else { return nil }
        let dir = (sidecar.path as NSString).deletingLastPathComponent
        let rel = dir.isEmpty ? clip : dir + "/" + clip
        return (rel as NSString).standardizingPath
    }

    private func makeDrop(clip: FileRecord?, sidecar: FileRecord?) throws -> Bool {
        let main = clip ?? sidecar!
        let stem = ((main.path as NSString).lastPathComponent as NSString).deletingPathExtension
        let drop = DropRecord(
            id: DropNaming.newID(stem: stem), pipeline: ctx.config.name, stem: stem, clipPath: clip?.path,
            sidecarPath: sidecar?.path, now: ctx.now.timeIntervalSince1970)
        let ok = try ctx.ledger.createDrop(drop, fileIDs: [clip?.id, sidecar?.id].compactMap { $0 })
        if ok { ctx.wakeup.ring() }
        return ok
    }
}
