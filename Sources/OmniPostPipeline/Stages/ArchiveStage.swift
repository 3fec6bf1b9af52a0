import Foundation
import OmniPostCore
import OmniPostLedger

/// Finishes drops: when every delivery is terminal, the originals go to `archive/YYYY/MM/DD/<drop>/`
/// (something was published) or `failed/<drop>/` (nothing was, or the drop was rejected), the outbox gets
/// a result or failure report, and the drop's work/ folder is removed. Originals are only ever moved
/// by rename or verified copy (SafeFiles), so a crash half-way leaves every file in one of two places.
///
/// A drop published to some targets and failed on others is `partial`: its originals are archived (they
/// are public now), the report — `state: "partial"`, a top-level reason naming each failed target and
/// its code — goes both to `outbox/<drop>.result.json` (what went out, with its links) and to
/// `outbox/failed/<drop>.failure.json` (what needs a person); the ledger records the drop as `failed`,
/// so it is on the Failures list and `omnipost retry` sends only what failed.
struct ArchiveStage: Stage {
    /// Two loops: `.any` files every finished or rejected drop; `.rejectedAlone` only rejected drops that
    /// are no clip list's entry, beside it — a filing waits on its fsyncs, and one loop filing 10,000
    /// rejected sidecars one after another was what held a flood's answers back (issue 30). (A clip list's
    /// entries stay with the one loop: the last of them to be filed moves the list, which two loops
    /// counting each other as still open would both leave.)
    enum Lane { case any, rejectedAlone }
    let name = "archive"
    var loopName: String { lane == .rejectedAlone ? "archive.rejected" : "archive" }
    let ctx: PipelineContext
    var lane: Lane = .any
    var rungBy: Wakeup.Topic { lane == .rejectedAlone ? .rejected : .finished }
    /// Rejected and finished drops take turns: a stream of rejections never holds a published drop's filing.
    let turn = FairTurn()

    /// A filing whose worker stopped (an archive step that failed: its lease is left to lapse) is taken
    /// up again when the lease runs out.
    func nextDeadline() throws -> Date? { try ctx.ledger.nextLeaseExpiry(in: [.rejected, .converted]) }

    func step() async throws -> Bool {
        if lane == .rejectedAlone { return try archiveOne(rejected: true) || idle() }
        // Both kinds looked for in one read (on the shared ledger, not asked: both claimed as before); a
        // claim's write transaction only for a kind the read found (issue 30: a published drop rang this
        // lane three times, each a write transaction for a rejected drop that was not there).
        let work = try ctx.ledger.filingWork()
        let rejectedFirst = turn.last != "rejected"
        for rejected in rejectedFirst ? [true, false] : [false, true] where rejected ? work.rejected : work.finished {
            guard try archiveOne(rejected: rejected, looked: true) else { continue }
            turn.last = rejected ? "rejected" : "finished"
            return true
        }
        return idle()
    }

    /// Nothing more to file: the folders the burst's filings share are synced now (`SharedFolderSyncs`).
    private func idle() -> Bool {
        ctx.sharedSyncs.flush(ctx.syncer)
        return false
    }

    /// `looked`: a read of the caller's found one of this kind to take (`Ledger.filingWork`).
    private func archiveOne(rejected: Bool, looked: Bool = false) throws -> Bool {
        if rejected {
            // The drop and its filing in one commit.
            guard
                let (drop, filing, deliveries, rows) = try ctx.ledger.claimRejectedDropToFile(
                    owner: ctx.owner, host: ctx.config.host.name, lease: ctx.dropLease(300), filingLease: ctx.config.host.leaseSeconds,
                    alone: lane == .rejectedAlone, looked: looked, folder: { Self.filingFolder($0, outcome: .failed) })
            else { return false }
            ctx.dropsInHand.hold(drop.id)
            defer { ctx.dropsInHand.letGo(drop.id) }
            // Nothing of it is filed yet: the filing claimed with it goes with the withdrawal (one begun before —
            // taken over from a filer that stopped, or this one's own failed attempt — may have moved files:
            // then it is finished, not withdrawn).
            if try withdrawIfChanged(drop, filer: filing?.begun == false ? ctx.owner : nil, rows: rows) { return true }
            try reporting(drop) { try finish(drop, outcome: .failed, claimed: .some(filing), deliveries: deliveries, rows: rows) }
            return true
        }
        // The drop, its deliveries and its filing in one commit, as for a rejected drop.
        guard
            let (drop, deliveries, filing) = try ctx.ledger.claimFinishedDropToFile(
                owner: ctx.owner, host: ctx.config.host.name, lease: ctx.dropLease(300), filingLease: ctx.config.host.leaseSeconds, looked: looked,
                folder: { Self.filingFolder($0, outcome: Outcome($1)) })
        else { return false }
        // In hand while it is filed: the heartbeat renews the drop's claim and its filing together.
        ctx.dropsInHand.hold(drop.id)
        defer { ctx.dropsInHand.letGo(drop.id) }
        // Its file rows read once, for the change check and the filing both.
        let rows = try ctx.ledger.files(ofDrop: drop.id)
        if try withdrawIfChanged(drop, filer: filing?.begun == false ? ctx.owner : nil, rows: rows) { return true }
        try reporting(drop) { try finish(drop, outcome: Outcome(deliveries), claimed: .some(filing), deliveries: deliveries, rows: rows) }
        return true
    }

    /// A drop whose clip or sidecar is no longer the version it took (an editor re-exporting over it) is
    /// not filed with the new bytes under its old answer: withdrawn if nothing of it was posted, so the
    /// new version comes in as a new drop. (Refused once something was posted: `finish` then leaves the
    /// changed file in the inbox.) No other stage can withdraw it meanwhile: `withdrawDrop` refuses a drop
    /// whose filing is claimed, and `claimFiling` a withdrawn one.
    private func withdrawIfChanged(_ drop: DropRecord, filer: String? = nil, rows: [FileRecord]? = nil) throws -> Bool {
        guard let changed = try ctx.sourceChange(drop, when: "before it was filed away", rows: rows) else { return false }
        return try ctx.withdraw(drop.id, stage: name, changed, filer: filer)
    }

    /// An archive step that fails (a full disk, a destination holding other bytes) leaves every file
    /// where it is and the drop's lease to lapse for a retry; the reason goes in the ledger, where
    /// `status` and the progress output show it, not only in the log.
    private func reporting(_ drop: DropRecord, _ body: () throws -> Void) throws {
        do { try body() } catch {
            // Let go of the filing at once: the retry, here or on another host, goes on into the same folder.
            try? ctx.ledger.releaseFiling(dropId: drop.id, owner: ctx.owner)
            let e = OmniError.wrap(error, as: .archiveIO)
            try? ctx.ledger.note(.archiveFailed, stage: .archive, dropId: drop.id, detail: "\(e.code): \(e.message)")
            throw e
        }
    }

    /// How a drop ended, from its deliveries. `cancelled`: every delivery was cancelled (by a person, or
    /// withdrawn by a stage) and none published — nothing went out, so it is filed like a failure
    /// (`failed/<drop>`, where `omnipost retry` finds it), with a report that says it was cancelled, never
    /// as `published`.
    enum Outcome: Equatable {
        case published, partial, failed, cancelled

        init(_ deliveries: [DeliveryRecord]) {
            if !deliveries.isEmpty, deliveries.allSatisfy({ $0.state == .cancelled }) {
                self = .cancelled
            } else if deliveries.allSatisfy({ $0.state == .published || $0.state == .cancelled }) {
                self = .published
            } else if deliveries.contains(where: { $0.state == .published }) {
                self = .partial
            } else {
                self = .failed
            }
        }
    }

    /// The top-level reason of a drop whose deliveries failed: each failed target with its code, the
    /// first one's code as the drop's — so a report and the Failures list never show an empty reason.
    static func reason(_ deliveries: [DeliveryRecord]) -> (code: String, message: String)? {
        let failed = deliveries.filter { $0.state == .failed }
        guard let first = failed.first else { return cancelled(deliveries) }
        let published = deliveries.filter { $0.state == .published }
        var message = failed.map { "\($0.target) failed (\($0.errorCode ?? "failed"): \($0.errorMessage ?? "no reason recorded"))" }.joined(separator: "; ")
        if !published.isEmpty {
            message += "; published to " + published.map { $0.target + ($0.remoteUrl.map { " \($0)" } ?? "") }.joined(separator: ", ")
        }
        return (first.errorCode ?? ReasonCode.internalError.rawValue, message)
    }

    /// The reason of a drop whose every delivery was cancelled: each target with who or what cancelled it
    /// (`cancelled by ana (cli)`, or the stage's reason for withdrawing it), the first one's code as the drop's.
    static func cancelled(_ deliveries: [DeliveryRecord]) -> (code: String, message: String)? {
        guard Outcome(deliveries) == .cancelled, let first = deliveries.first else { return nil }
        let each = deliveries.map { "\($0.target) cancelled (\($0.errorCode ?? ReasonCode.cancelled.rawValue): \($0.errorMessage ?? "no reason recorded"))" }
        return (first.errorCode ?? ReasonCode.cancelled.rawValue, "nothing was published: every delivery was cancelled — " + each.joined(separator: "; "))
    }

    /// `claimed`: the filing as claimed with the drop (`.some(nil)`: another host's), or nil to claim it here.
    /// `deliveries`: as read with the claim (a rejected drop's are read here). `rows`: its file rows, if read already.
    private func finish(
        _ drop: DropRecord, outcome: Outcome, claimed: Ledger.Filing?? = nil, deliveries read: [DeliveryRecord]? = nil, rows known: [FileRecord]? = nil
    ) throws {
        var drop = drop
        let now = ctx.now
        let deliveries = try read ?? ctx.ledger.deliveries(forDrop: drop.id)
        if drop.reasonCode == nil, let why = Self.reason(deliveries) {
            drop.reasonCode = why.code
            drop.reasonMessage = why.message
        }
        // The filing is claimed in the ledger before anything moves (several hosts share the inbox): a
        // drop another host is filing is left to it; one whose filer stopped is taken over into the folder
        // that host chose, so no move is repeated or contradicted (files already there are recognised).
        // A rejected drop's filing was claimed with it, into the folder `filingFolder` named then.
        let mine = Self.filingFolder(drop, outcome: outcome)
        guard
            let filing = try claimed
                ?? ctx.ledger.claimFiling(
                    dropId: drop.id, owner: ctx.owner, host: ctx.config.host.name, folder: mine, lease: ctx.config.host.leaseSeconds)
        else {
            // (Or it was withdrawn since it was claimed: its files wait again, nothing of it is filed.)
            ctx.logger.info("another host is filing this drop, or it was withdrawn", metadata: ["omnipost.drop": "\(drop.id)"])
            return
        }
        // The folder the ledger holds for the filing, whoever chose it (one naming no archive/ or failed/
        // folder of ours is not followed: this drop's own is used).
        let relDest = Self.folder(filing.folder, in: ctx.paths) != nil ? filing.folder : mine
        guard let destDir = Self.folder(relDest, in: ctx.paths) else { throw OmniError(.internalError, "no folder to file \(drop.id) in") }
        // A clip list shared with drops still in flight (or entries still waiting for their clips) is
        // copied; the last drop to finish moves it.
        var shared = false
        if drop.manifestEntry != nil, let list = drop.sidecarPath {
            shared =
                try ctx.ledger.otherOpenDrops(usingSidecar: list, excluding: drop.id) > 0
                || drop.sourceFileId.map { try ctx.ledger.isWaiting(fileId: $0) } == true
        }
        let markers = ctx.config.watch.readyMarker ? [drop.clipPath, shared ? nil : drop.sidecarPath].compactMap { $0.map { $0 + ".ready" } } : []
        var filed: [String] = [], notFiled: [String] = []
        // Every original is reached from the inbox folder's descriptor and moved between open folders
        // (TakenFile, BeneathDirectory.move), never by a path re-resolved through the inbox: a subfolder
        // swapped for a link to elsewhere while the drop waited moves nothing from there.
        let inbox = try ctx.openInbox()
        // Every folder whose entries this filing changes is synced before any original's inbox name goes
        // (`FilingSyncs`): the folders created for it in their parents, the files and the report linked in.
        let syncs = FilingSyncs(ctx.syncer)
        // One mkdir where the parent is there (failed/, an archive day already begun); FileManager's
        // walk from the root only where it is not. Either way the parent of each folder made is synced.
        if mkdir(destDir.path, 0o777) == 0 {
            try syncs.add(path: destDir.deletingLastPathComponent().path)
        } else if errno != EEXIST {
            var missing: [URL] = [], up = destDir
            while up.path != "/", !FileManager.default.fileExists(atPath: up.path) {
                missing.append(up)
                up = up.deletingLastPathComponent()
            }
            try FileManager.default.createDirectory(at: destDir, withIntermediateDirectories: true)
            for made in missing { try syncs.add(path: made.deletingLastPathComponent().path) }
        }
        let dest = try BeneathDirectory(path: destDir.path)
        var placed: [(from: BeneathDirectory, move: BeneathDirectory.Placed)] = []
        let rows = try known ?? ctx.ledger.files(ofDrop: drop.id)
        for rel in [drop.clipPath, drop.sidecarPath].compactMap({ $0 }) + drop.assets + markers {
            let taken: TakenFile
            switch TakenFile.locate(rel, in: inbox) {
            case .here(let t): taken = t
            case .unreachable(let why):
                // Not where it was taken (its folder is now a link to elsewhere): nothing is moved from
                // there; the report and the ledger say where the original was not found.
                notFiled.append("\(rel): \(why); nothing was moved from there")
                try ctx.ledger.note(.notFiled, stage: .archive, dropId: drop.id, detail: "\(rel) was not filed: \(why); nothing was moved from there")
                continue
            case .gone:
                if !markers.contains(rel), dest.lstat(rel) == nil {
                    // Gone from the inbox before we got to it (deleted by the user): say so, lose nothing else.
                    ctx.logger.warning("original disappeared before archiving", metadata: ["omnipost.drop": "\(drop.id)", "omnipost.file": "\(rel)"])
                    notFiled.append("\(rel): gone from where it was taken")
                    try ctx.ledger.note(.notFiled, stage: .archive, dropId: drop.id, detail: "\(rel) was gone from where it was taken")
                }
                continue
            }
            if !shared || rel != drop.sidecarPath, let row = try ctx.takenRow(drop, path: rel, rows: rows), let why = taken.change(from: row) {
                // Rewritten after its post went out: the new bytes are not what was published. They stay
                // in the inbox, where they come in as a new file; the report says so.
                ctx.arriving.writing.recheck(rel)
                notFiled.append("\(rel): changed after it was used (\(why)); the new version was left in the inbox")
                try ctx.ledger.note(
                    .leftInInbox, stage: .archive, dropId: drop.id,
                    detail: "\(rel) changed after it was used (\(why)); the new version was left in the inbox")
                continue
            }
            filed.append(rel)
            let parts = rel.split(separator: "/").map(String.init)
            let destFolder = try dest.subdirectory(parts.dropLast().joined(separator: "/"), create: true, created: syncs.add)
            do {
                if shared && rel == drop.sidecarPath {
                    if BeneathDirectory.isRegular(taken.st) { try taken.folder.copy(taken.name, expected: taken.st, to: destFolder, as: taken.name) }
                } else {
                    // Linked at its destination now; its inbox name goes once every folder is synced (below).
                    let move = try taken.folder.place(taken.name, expected: taken.st, to: destFolder, as: taken.name)
                    if move.destUnsynced { syncs.add(destFolder) }
                    placed.append((taken.folder, move))
                }
            } catch let e as OmniError where e.code == .sourceChanged {
                // Swapped in the instant between the check and the move: left where it is, said so.
                filed.removeLast()
                notFiled.append("\(rel): \(e.message)")
                try ctx.ledger.note(.notFiled, stage: .archive, dropId: drop.id, detail: "\(rel) was not filed: \(e.message)")
            }
        }
        if drop.clipSha256 == nil, let clip = drop.clipPath {
            // Rejected before its identity was taken: the report still names the clip by size and sha256.
            let facts = Self.identify(destDir.appendingPathComponent(clip))
            drop.clipBytes = drop.clipBytes ?? facts.bytes
            drop.clipSha256 = facts.sha256
        }
        // The verifications are read and the result written under the lock `ReadBackReport.update` takes,
        // so a check settling in between is either in what is written or rewritten into it after.
        try ReadBackReport.resultFileLock.withLock {
            // Its read-backs, follow-ups and approval in one read. Who let it go (approval: required), as the
            // ledger recorded it. (A drop rejected at validation never reached approval: its events are not read for it.)
            let facts = try ctx.ledger.reportFacts(
                dropId: drop.id, deliveryIds: deliveries.compactMap(\.id), approval: drop.state != .rejected)
            var report = DropReport(
                drop: drop, deliveries: deliveries, state: "\(outcome)", originals: relDest, finishedAt: now,
                checks: facts.checks, followUps: facts.followUps)
            if let e = facts.approved {
                report.approval = DropReport.Approval(at: Date(timeIntervalSince1970: e.at), said: e.detail ?? "approved")
            }
            report.notFiled = notFiled.isEmpty ? nil : notFiled
            if outcome == .published || outcome == .partial {
                try report.write(to: ctx.paths.outbox.appendingPathComponent("\(drop.id).result.json"))
            }
            if outcome != .published {
                // The copy beside the originals is a second name for the same durable file, not a second file.
                let outboxReport = ctx.paths.outboxFailed.appendingPathComponent("\(drop.id).failure.json")
                let data = try report.encoded()
                // Flushed; its name here is synced with the burst's (its copy beside the originals is synced below).
                try SafeFiles.writeAtomically(data, to: outboxReport, syncFolder: false)
                ctx.sharedSyncs.add(path: ctx.paths.outboxFailed.path)
                try SafeFiles.linkOrWrite(outboxReport, data, to: destDir.appendingPathComponent("\(drop.id).failure.json"), syncFolder: false)
                syncs.add(dest)
            }
        }
        // The drop's outcome is in its report (synced) and every original is under its new name in a synced
        // folder: only now do the inbox names go — a power cut before leaves each original under both
        // names (the next filing finds it filed), never under neither. Each inbox folder is synced once.
        syncs.syncAll()
        // The inbox folders are synced with the burst's (a name that comes back after a power cut is a
        // file already filed, which the ledger knows as taken).
        for p in placed where try p.move.removeSource() { ctx.sharedSyncs.add(p.from) }
        ctx.sharedSyncs.filed(ctx.syncer)
        SafeFiles.removeIfPresent(ctx.paths.work.appendingPathComponent(drop.id))
        let from = drop.state, finished = drop
        // One transaction: the drop filed, newer versions of the files just filed (recorded meanwhile, gone
        // with them) retired so none becomes a drop, and the filing over.
        try ctx.ledger.transitionDrop(
            drop.id, from: from, to: outcome == .published ? .archived : .failed, stage: name, detail: relDest,
            data: .filed(folder: relDest),
            change: { d in
            d.reasonCode = finished.reasonCode
            d.reasonMessage = finished.reasonMessage
            d.clipBytes = finished.clipBytes
            d.clipSha256 = finished.clipSha256
            }, retiringWaiting: filed.filter { !(shared && $0 == drop.sidecarPath) }, filingDoneBy: ctx.owner)
    }

    /// Where a drop is filed, as the ledger names it (relative to the pipeline's root): `archive/YYYY/MM/DD/<drop>`
    /// (by the day it came in, UTC) when something was published, `failed/<drop>` otherwise. The one rule:
    /// a rejected drop's claim (`claimRejectedDropToFile`) is handed it rather than writing it again.
    static func filingFolder(_ drop: DropRecord, outcome: Outcome) -> String {
        guard outcome == .published || outcome == .partial else { return "failed/\(drop.id)" }
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: drop.createdAt))
        return String(format: "archive/%04d/%02d/%02d/", c.year!, c.month!, c.day!) + drop.id
    }

    /// A filing's folder as the ledger names it (`archive/…`, `failed/…`) in this pipeline's folders.
    static func folder(_ rel: String, in paths: PipelinePaths) -> URL? {
        let parts = rel.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[1].split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else { return nil }
        switch parts[0] {
        case "archive": return paths.archive.appendingPathComponent(parts[1])
        case "failed": return paths.failed.appendingPathComponent(parts[1])
        default: return nil
        }
    }

    /// Size and sha256 of an original now in our own folder, read without following a link (a link is
    /// named by neither). Files past `identifyLimit` are named by size only: a rejection stays cheap.
    static func identify(_ url: URL) -> (bytes: Int64?, sha256: String?) {
        var st = stat()
        guard lstat(url.path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return (nil, nil) }
        let bytes = Int64(st.st_size)
        guard bytes <= identifyLimit else { return (bytes, nil) }
        // lstat said a regular file, not a link, and it is in our own folder now (failed/ or archive/).
        return (bytes, (try? FileHashing.sha256(path: url.path))?.hex)
    }

    /// 1 GiB: a few seconds of hashing on a small NAS; a rejection of a larger file (a huge junk file)
    /// must stay cheap, and its size and name identify it well enough.
    static let identifyLimit: Int64 = 1 << 30
}
