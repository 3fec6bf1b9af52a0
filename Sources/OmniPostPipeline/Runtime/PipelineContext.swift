import Foundation
import Logging
import OmniPostCore
import OmniPostIngest
import OmniPostLedger
import OmniPostMedia
import OmniPostPlatforms

/// What every stage gets: the pipeline's config, the ledger, the tools, and the doorbell.
/// A context of swappable parts (STYLE.md: swiftly's context struct) so tests can drive each stage.
package struct PipelineContext: Sendable {
    package var config: PipelineConfig
    package var ledger: Ledger
    package var profiles: ProfileCatalog
    package var adapters: [String: any PlatformAdapter]
    package var logger: Logger
    package var wakeup: Wakeup
    package var progress: ProgressSink
    package var tools: ToolRunner
    /// Unique per process: lease owner name.
    package var owner: String
    /// Delay before retrying a transient upload failure.
    package var backoff: Backoff = Backoff()
    /// Files the watcher found settled but not yet whole: their partners' grace does not run out on them.
    package var arriving = ArrivingFiles()
    /// Clip lists parsed once per version (shared by the assemble and validate stages).
    var clipLists = ClipListCache()
    /// Lone sidecars parsed once per version: the arrival check, pairing and validation share the parse.
    var sidecars = SidecarCache()
    /// How the archive stage syncs the folders a filing changed (a test sees the order through it).
    var syncer = DirectorySyncer.system
    /// The folders a burst of filings shares, synced once for several (both archive lanes).
    var sharedSyncs = SharedFolderSyncs()
    /// Validate workers decide one at a time (duplicates, slots); they read and probe side by side.
    var decisions = SerialGate()
    /// `outbox/<drop>.status.json`, rewritten as drops move (the ledger's observer marks them).
    package var statusFiles = DropStatusFiles()
    /// Whether each stage loop is alive (waiting, or progressing within its deadline): systemd's watchdog.
    package var liveness = StageLiveness()
    /// Whether this host's heartbeat reaches the ledger: the claim loops claim only while it does.
    package var hostHealth = HostHealth()
    /// The drops the stages are working on and the uploads running: what the heartbeat renews (`InHand`).
    package var dropsInHand = InHand<String>()
    package var uploadsInHand = InHand<Int64>()

    /// This host may claim now: its heartbeat reaches the ledger, and `role` is one of its `host_roles`.
    func mayClaim(_ role: HostConfig.Role) -> Bool { hostHealth.claiming && config.host.may(role) }

    /// What the queue lets through: the profiles' quotas, the breaker and the caps of this pipeline.
    package var queueGate: QueueGate {
        QueueGate(
            quotas: profiles.quotas, breaker: config.upload.breaker, perPlatform: config.upload.perPlatform,
            perAccount: config.upload.perAccount)
    }

    package var paths: PipelinePaths { config.paths }
    package var now: Date { ledger.clock.now() }

    package func inboxPath(_ rel: String) -> String { paths.inbox.appendingPathComponent(rel).path }

    /// `retry`/`cancel`/`approve` as the daemon itself runs them (a corrected sidecar, a marker file, the
    /// dashboard, the API). Originals a retry moves back into the inbox are recorded at once, as the
    /// watcher would once they settle: they are our own whole files, moved in by rename. Left to the
    /// watcher, a clip brought back for a corrected sidecar that was recorded first could miss that
    /// sidecar's grace on a busy machine (its move's event still queued) and both would fail alone.
    func control(who: String) -> QueueControl {
        var control = QueueControl(config: config, ledger: ledger, who: who)
        let ctx = self
        control.returned = { rels in
            let scanner = InboxScanner(root: ctx.paths.inbox.path, filter: JunkFilter(extra: ctx.config.watch.ignore))
            for rel in rels { if let fact = scanner.stat(relPath: rel), !fact.isSymlink { Pipeline.record(fact, ctx: ctx) } }
        }
        return control
    }

    /// Whether a partner (a file of `role` pairing under `keys`) is on its way: pending or arriving in the
    /// watcher, or waiting in the ledger. The watcher is asked first: it records a file before it stops
    /// listing it as pending, so no moment finds the partner in neither. `waiting` is a ledger read taken
    /// after the watcher was asked (a caller deciding many files passes `WaitingPartners` of one read);
    /// nil looks the keys up in the ledger now (by index: a lone drop's answer never reads every waiting file).
    /// `waitOutBusy`: a watcher in the middle of reporting a batch counts as "maybe".
    func partnerOnItsWay(_ keys: [String], role: FileRecord.Role, waiting: WaitingPartners? = nil, waitOutBusy: Bool = true) throws -> Bool {
        if arriving.any(pairingWith: keys, waitOutBusy: waitOutBusy) { return true }
        if let waiting { return waiting.any(pairingWith: keys, role: role) }
        let wanted = Set(keys)
        return try ledger.waitingFiles(role: role, underStems: keys).contains { DropNaming.pairs($0.path, with: wanted) }
    }

    /// Whether a sidecar other than the `known` ones would pair with the clip at `clipPath`: still on its
    /// way in the watcher, or waiting in the ledger. Asked when a drop is validated, so `c.yaml` and
    /// `c.json` are seen as the ambiguity they are even when the second one was recorded just after the
    /// pairing — never one of them published. The watcher is asked first: it records a file before it
    /// stops listing it, so no moment finds the rival in neither.
    func rivalSidecar(ofClip clipPath: String, known: Set<String>) throws -> Bool {
        let keys = DropNaming.clipKeys(clipPath)
        let pending = arriving.pendingSidecarsByKey()
        if keys.contains(where: { (pending[$0] ?? []).contains { !known.contains($0) } }) { return true }
        // Every name a sidecar of this clip can have: `c.yaml`, `c.mp4.json`, … — looked up, not scanned.
        let names = keys.flatMap { k in DropNaming.sidecarExtensions.flatMap { [k + "." + $0, k + "." + $0.uppercased()] } }
        return try ledger.waitingFiles(atAny: names).contains { !known.contains($0.path) }
    }

    /// Withdraws a drop (its clip changed after it was taken, or its partner turned up after all): not a
    /// failure. Its renditions in work/ are removed, the progress output says so, the stages are rung.
    @discardableResult
    func withdraw(
        _ dropId: String, stage: String, reason: String, code: ReasonCode = .sourceChanged, retireClip: Bool? = nil,
        retiring: [String] = [], filer: String? = nil
    ) throws -> Bool {
        // A late partner (or a rewritten sidecar) leaves the clip as it was; a changed clip's old row is retired.
        guard
            try ledger.withdrawDrop(
                dropId, stage: stage, reason: reason, code: code, retireClip: retireClip ?? (code == .sourceChanged),
                retiring: retiring, filer: filer)
        else { return false }
        withdrawn(dropId, reason: reason)
        return true
    }

    /// What follows a withdrawal the ledger made: the drop's work folder goes, the files wait again.
    func withdrawn(_ dropId: String, reason: String) {
        SafeFiles.removeIfPresent(paths.work.appendingPathComponent(dropId))
        progress.line("  \(dropId)  withdrawn  \(reason)")
        wakeup.ring(.files)
    }

    /// Withdraws a drop whose file changed since it was taken: the changed file's row is retired (its
    /// newest version comes in through the watcher), the others wait again.
    @discardableResult
    /// `filer`: see `Ledger.withdrawDrop`.
    func withdraw(_ dropId: String, stage: String, _ changed: SourceChanged, filer: String? = nil) throws -> Bool {
        try withdraw(
            dropId, stage: stage, reason: changed.reason, retireClip: !changed.keepsClip, retiring: changed.keepsClip ? [changed.path].compactMap { $0 } : [],
            filer: filer)
    }
}

/// Where human progress lines go (stdout for the CLI, nowhere in most tests).
package struct ProgressSink: Sendable {
    package var line: @Sendable (String) -> Void
    /// Every line may carry user text (file names, titles, platform messages): control characters are
    /// escaped here, once for every caller (`TerminalText`).
    package init(_ line: @escaping @Sendable (String) -> Void) { self.line = { line(TerminalText.escape($0)) } }
    package static let silent = ProgressSink { _ in }
}
