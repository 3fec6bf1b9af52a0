import Foundation
import Logging
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// `omnipost plan`: what the pipeline would do with a drop, without doing it. The plan is not a second
/// reading of the rules: the assemble and validate stages themselves run, on a copy of the ledger and with
/// the drop's folder as the inbox — the same pairing, templates, model text, profiles, duplicates and
/// slots a run would meet — and the queue forecast then applies the claim's order, schedule, breakers and
/// quotas to the queue as the copy holds it, the drop's deliveries included. Nothing is converted,
/// uploaded, moved or written outside a temporary folder; the real ledger is only read.
package struct DropPlanner: Sendable {
    package var config: PipelineConfig
    package var clock: any WallClock
    /// Whether a sidecar's `ai:` asks the captions endpoint (as validation would); without it the
    /// templates' text is shown, and the report says so.
    package var askModel = true
    package var profiles: ProfileCatalog?

    package init(config: PipelineConfig, clock: any WallClock = SystemClock(), askModel: Bool = true, profiles: ProfileCatalog? = nil) {
        self.config = config
        self.clock = clock
        self.askModel = askModel
        self.profiles = profiles
    }

    /// The plan for `path`: a clip or a sidecar (the drop it makes with its partners beside it), or a
    /// folder (every drop in it).
    package func plan(_ path: String) async throws -> PlanReport {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw OmniError(.missingClip, "\(path) does not exist", at: SourceLocation(file: path))
        }
        let folder = isDir.boolValue ? url : url.deletingLastPathComponent()
        let only = isDir.boolValue ? nil : url.lastPathComponent

        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("omnipost-plan-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let ledgerCopy = scratch.appendingPathComponent("ledger.sqlite")
        if config.sharedLedger != nil {
            // The ledger the pipeline names, as `run` and `status` open it: on a shared ledger what every
            // host recorded is copied, so duplicates, taken slots and quotas spent anywhere are weighed.
            let shared = try Ledger.open(config)
            defer { shared.close() }
            try shared.snapshot(to: ledgerCopy.path)
        } else if FileManager.default.fileExists(atPath: config.paths.ledger.path) {
            try Ledger.snapshot(of: config.paths.ledger.path, to: ledgerCopy.path)
        }

        var c = config
        // A sandboxed pipeline's model is the bundled sandbox's, which only a run starts: the plan shows
        // the templates' text then, and says so.
        let modelNote: String? =
            c.captions == nil
            ? nil
            : !askModel
                ? "the captions model was not asked (--no-ai): the templates' text is shown"
                : c.captions?.endpoint.isEmpty == true ? "the captions model is the bundled sandbox's, which only `run` starts: the templates' text is shown" : nil
        if modelNote != nil { c.captions = nil }
        c.paths = PipelinePaths(root: scratch, inbox: folder, ledger: ledgerCopy)
        // The stages below work on the copy alone, as on one machine: nothing reaches the shared database.
        c.sharedLedger = nil
        try PlatformRegistry.resolve(&c)
        let planClock = PlanClock(clock)
        let ledger = try Ledger(path: ledgerCopy.path, clock: planClock)
        let profiles = try (self.profiles ?? ProfileCatalog.bundled()).overlaid(with: c.overrides)
        let ctx = PipelineContext(
            config: c, ledger: ledger, profiles: profiles, adapters: try DropRules.forChecking(c).adapters,
            logger: Logger(label: "omnipost.plan", factory: { _ in SwiftLogNoOpLogHandler() }), wakeup: Wakeup(), progress: .silent,
            tools: ToolRunner(), owner: "plan:\(getpid())")

        // The files as the watcher would record them once whole, their grace already over: a lone clip is
        // planned as the pipeline's sidecar policy treats it, a lone sidecar as missing its clip.
        let before = Set(try ledger.drops(in: [.received]).map(\.id))
        planClock.offset = -(c.sidecar.grace.seconds + 1)
        for (rel, st) in try Self.files(in: folder) {
            try ledger.recordFile(path: rel, size: st.size, mtime: st.mtime, inode: st.inode, role: DropNaming.role(of: rel))
        }
        planClock.offset = 0
        let assemble = AssembleStage(ctx: ctx)
        var rounds = 0
        while rounds < 10_000, try await assemble.step() { rounds += 1 }
        var drops = try ledger.drops(in: [.received]).filter { !before.contains($0.id) }
        if let only {
            drops = try drops.filter { d in try d.clipPath == only || d.sidecarPath == only || ledger.files(ofDrop: d.id).contains { $0.path == only } }
            if drops.isEmpty {
                throw OmniError(
                    .invalidValue,
                    "\(only) makes no drop here: it is not a clip, a sidecar or a clip list the pipeline pairs, or the ledger already took it",
                    at: SourceLocation(file: path))
            }
        }

        // Each drop through validation as the stage would take it, in the order they were made.
        let validate = ValidateStage(ctx: ctx)
        var verdicts: [String: PlanReport.Verdict] = [:]
        for drop in drops.sorted(by: { $0.createdAt < $1.createdAt || ($0.createdAt == $1.createdAt && $0.id < $1.id) }) {
            let assets = AssetList()
            do {
                try validate.accept(drop, try await validate.validate(drop, assets: assets), assets: assets)
                verdicts[drop.id] = .publishes
            } catch let late as PartnerArrived {
                verdicts[drop.id] = .waits(late.reason)
            } catch let changed as SourceChanged {
                verdicts[drop.id] = .waits(changed.reason)
            } catch {
                try OmniError.passCancellation(error)
                try validate.reject(drop, error, assets: assets)
                verdicts[drop.id] = .rejected
            }
        }

        // When each would go out: the whole queue forecast, this drop's deliveries read from it.
        let (forecast, queue) = try ledger.queueForecast(rules: profiles.quotas)
        let now = planClock.now()
        let times = forecast.run(queue.map(\.forecastItem), now: now)
        let note = [modelNote].compactMap { $0 }.joined(separator: "; ")
        var report = PlanReport(pipeline: c.name, at: now, drops: [], note: note.isEmpty ? nil : note)
        for drop in drops {
            guard let d = try ledger.drop(drop.id) else { continue }
            let deliveries = try ledger.deliveries(forDrop: d.id)
            var planned = PlanReport.Drop(
                drop: d, verdict: verdicts[d.id] ?? .rejected, deliveries: deliveries, times: times,
                manifest: d.manifestJson.flatMap { try? JSONDecoder().decode(Manifest.self, from: Data($0.utf8)) })
            planned.slotChoice = try ledger.events(forDrop: d.id).last { $0.toState == EventKind.slotChosen.rawValue }?.detail
            report.drops.append(planned)
        }
        return report
    }

    /// Every regular file under `folder` (not hidden, not under a hidden folder), relative to it, with
    /// what the watcher records of each.
    static func files(in folder: URL) throws -> [(String, (size: Int64, mtime: Double, inode: Int64))] {
        var out: [(String, (size: Int64, mtime: Double, inode: Int64))] = []
        let root = folder.path.hasSuffix("/") ? folder.path : folder.path + "/"
        guard let e = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        while let rel = e.nextObject() as? String {
            if rel.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
            var st = stat()
            guard lstat(root + rel, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            out.append((rel, (Int64(st.st_size), Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9, Int64(st.st_ino))))
        }
        return out.sorted { $0.0 < $1.0 }
    }
}

/// The plan's clock: the caller's, set back while the files are recorded (so their grace is over).
final class PlanClock: WallClock, @unchecked Sendable {
    private let base: any WallClock
    private let lock = NSLock()
    private var _offset: Double = 0
    init(_ base: any WallClock) { self.base = base }
    var offset: Double {
        get { lock.withLock { _offset } }
        set { lock.withLock { _offset = newValue } }
    }
    func now() -> Date { base.now().addingTimeInterval(offset) }
}
