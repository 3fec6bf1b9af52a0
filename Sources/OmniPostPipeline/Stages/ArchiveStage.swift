import Foundation
import OmniPostCore
import OmniPostLedger

/// Finishes drops: when every delivery is terminal, the originals go to `archive/YYYY/MM/DD/<drop>/`
/// (all published) or `failed/<drop>/` (anything failed, or the drop was rejected), the outbox gets a
/// result or failure report, and the drop's work/ folder is removed. Originals are only ever moved
/// by rename or verified copy (SafeFiles), so a crash half-way leaves every file in one of two places.
struct ArchiveStage: Stage {
    let name = "archive"
    let ctx: PipelineContext
    /// Rejected and finished drops take turns: a stream of rejections never holds a published drop's filing.
    let turn = FairTurn()

    func step() async throws -> Bool {
        let rejectedFirst = turn.last != "rejected"
        for rejected in rejectedFirst ? [true, false] : [false, true] where try archiveOne(rejected: rejected) {
            turn.last = rejected ? "rejected" : "finished"
            return true
        }
        return false
    }

    private func archiveOne(rejected: Bool) throws -> Bool {
        if rejected {
            guard let drop = try ctx.ledger.claimDrop(in: .rejected, owner: ctx.owner) else { return false }
            if try withdrawIfChanged(drop) { return true }
            try reporting(drop) { try finish(drop, success: false) }
            return true
        }
        let allTerminal = "NOT EXISTS (SELECT 1 FROM deliveries WHERE deliveries.drop_id = drops.id AND deliveries.state NOT IN ('published','failed','cancelled'))"
        guard let drop = try ctx.ledger.claimDrop(in: .converted, owner: ctx.owner, where: allTerminal) else { return false }
        if try withdrawIfChanged(drop) { return true }
        let deliveries = try ctx.ledger.deliveries(forDrop: drop.id)
        try reporting(drop) { try finish(drop, success: deliveries.allSatisfy { $0.state == .published || $0.state == .cancelled }) }
        return true
    }

    /// A drop whose clip or sidecar is no longer the version it took (an editor re-exporting over it) is
    /// not filed with the new bytes under its old answer: withdrawn if nothing of it was posted, so the
    /// new version comes in as a new drop. (Refused once something was posted: `finish` then leaves the
    /// changed file in the inbox.)
    private func withdrawIfChanged(_ drop: DropRecord) throws -> Bool {
        guard let changed = try ctx.sourceChange(drop, when: "before it was filed away") else { return false }
        return try ctx.withdraw(drop.id, stage: name, changed)
    }

    /// An archive step that fails (a full disk, a destination holding other bytes) leaves every file
    /// where it is and the drop's lease to lapse for a retry; the reason goes in the ledger, where
    /// `status` and the progress output show it, not only in the log.
    private func reporting(_ drop: DropRecord, _ body: () throws -> Void) throws {
        do { try body() } catch {
            let e = OmniError.wrap(error, as: .archiveIO)
            try? ctx.ledger.note(dropId: drop.id, stage: name, state: "archive_failed", detail: "\(e.code): \(e.message)")
            throw e
        }
    }

    private func finish(_ drop: DropRecord, success: Bool) throws {
        let now = ctx.now
        let destDir: URL
        let relDest: String
        if success {
            var cal = Calendar(identifier: .gregorian)
            cal.timeZone = TimeZone(identifier: "UTC")!
            let c = cal.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: drop.createdAt))
            let datePath = String(format: "%04d/%02d/%02d", c.year!, c.month!, c.day!)
            destDir = ctx.paths.archive.appendingPathComponent(datePath).appendingPathComponent(drop.id)
            relDest = "archive/\(datePath)/\(drop.id)"
        } else {
            destDir = ctx.paths.failed.appendingPathComponent(drop.id)
            relDest = "failed/\(drop.id)"
        }
        let deliveries = try ctx.ledger.deliveries(forDrop: drop.id)
        // A clip list shared with drops still in flight (or entries still waiting for their clips) is
        // copied; the last drop to finish moves it.
        var shared = false
        if drop.manifestEntry != nil, let list = drop.sidecarPath {
            shared = try ctx.ledger.otherOpenDrops(usingSidecar: list, excluding: drop.id) > 0
                || drop.sourceFileId.map { try ctx.ledger.isWaiting(fileId: $0) } == true
        }
        let markers = ctx.config.watch.readyMarker ? [drop.clipPath, shared ? nil : drop.sidecarPath].compactMap { $0.map { $0 + ".ready" } } : []
        var filed: [String] = []
        for rel in [drop.clipPath, drop.sidecarPath].compactMap({ $0 }) + drop.assets + markers {
            let src = URL(fileURLWithPath: ctx.inboxPath(rel))
            let dst = destDir.appendingPathComponent(rel)
            if !shared || rel != drop.sidecarPath, let why = try ctx.changedSinceTakenNoted(drop, path: rel) {
                // Rewritten after its post went out: the new bytes are not what was published. They stay
                // in the inbox, where they come in as a new file; the report says so.
                try ctx.ledger.note(dropId: drop.id, stage: name, state: "left_in_inbox",
                                    detail: "\(rel) changed after it was used (\(why)); the new version was left in the inbox")
                continue
            }
            filed.append(rel)
            if shared && rel == drop.sidecarPath {
                if FileManager.default.fileExists(atPath: src.path) { try SafeFiles.copyOriginal(from: src, to: dst) }
            } else if FileManager.default.fileExists(atPath: src.path) || isSymlink(src.path) {
                try SafeFiles.moveOriginal(from: src, to: dst)
            } else if !markers.contains(rel), !FileManager.default.fileExists(atPath: dst.path) {
                // Gone from the inbox before we got to it (deleted by the user): say so, lose nothing else.
                ctx.logger.warning("original disappeared before archiving", metadata: ["omnipost.drop": "\(drop.id)", "omnipost.file": "\(rel)"])
            }
        }
        // Newer versions of the files just filed, recorded meanwhile, went with them: none becomes a drop.
        try ctx.ledger.retireWaiting(paths: filed.filter { !(shared && $0 == drop.sidecarPath) })
        let report = DropReport(drop: drop, deliveries: deliveries, state: success ? "published" : "failed", originals: relDest, finishedAt: now)
        if success {
            try report.write(to: ctx.paths.outbox.appendingPathComponent("\(drop.id).result.json"))
        } else {
            try report.write(to: ctx.paths.outboxFailed.appendingPathComponent("\(drop.id).failure.json"))
            try report.write(to: destDir.appendingPathComponent("\(drop.id).failure.json"))
        }
        try? FileManager.default.removeItem(at: ctx.paths.work.appendingPathComponent(drop.id))
        let from = drop.state
        try ctx.ledger.transitionDrop(drop.id, from: from, to: success ? .archived : .failed, stage: name, detail: relDest)
        ctx.wakeup.ring()
    }

    private func isSymlink(_ path: String) -> Bool {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil
    }
}
