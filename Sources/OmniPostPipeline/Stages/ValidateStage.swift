import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostMedia
import OmniPostPlatforms

/// Turns a received drop into planned deliveries, or rejects it with a reason: parse the sidecar,
/// check the clip's path and checksum, probe it once, and plan each target against its profile.
struct ValidateStage: Stage {
    /// Two workers: `.any` takes every drop; `.small` only drops whose clip is at most `largeClipBytes`,
    /// so a huge clip being hashed (a 100 GB sparse file) never holds the small ones behind it.
    enum Lane { case any, small }
    let name = "validate"
    /// Each lane is a loop of its own, its liveness watched apart (events keep the stage's name).
    var loopName: String { lane == .small ? "validate.small" : "validate" }
    /// The small lane is the spare: rung for a new drop only when the first lane is not asleep to take it.
    var rungBy: Wakeup.Topic { lane == .small ? .receivedSpare : .received }
    let ctx: PipelineContext
    var lane: Lane = .any
    /// The writer (clip list or folder) served last: claims go round-robin across writers.
    let turn = FairTurn()

    static let largeClipBytes: Int64 = 256 << 20

    /// A received drop held by a lease no one renews (its worker failed or went away) is validated again
    /// when the lease runs out: that moment is this lane's deadline, not its loop's safety net.
    func nextDeadline() throws -> Date? { try ctx.ledger.nextLeaseExpiry(in: [.received]) }

    func step() async throws -> Bool {
        guard
            let claimed = try ctx.ledger.claimDropToValidate(
                owner: ctx.owner, after: turn.last,
                lane: lane == .small ? .clipsAtMost(Self.largeClipBytes) : .any, lease: ctx.dropLease(300))
        else { return false }
        let drop = claimed.drop
        ctx.dropsInHand.hold(drop.id)
        defer { ctx.dropsInHand.letGo(drop.id) }
        turn.last = claimed.key
        // Other originals the sidecar names (a cover image…), known once their paths are safe: they go
        // where the drop goes, accepted or not.
        let assets = AssetList()
        let hold = GateHold(ctx.decisions, ledger: ctx.ledger)
        defer { hold.release() }
        // The versions the drop took, read once for every check of them below (three reads of the same
        // rows were three of a rejected drop's read transactions; issue 30).
        let rows = try ctx.ledger.files(ofDrop: drop.id)
        do {
            try accept(drop, try await validate(drop, assets: assets, hold: hold, rows: rows), assets: assets)
        } catch let late as PartnerArrived {
            // Pairing raced the partner's arrival: not the user's fault. The files pair again.
            try ctx.withdraw(drop.id, stage: name, reason: late.reason, code: .partnerArrived)
        } catch let changed as SourceChanged {
            // Not a failure: the file was still being written. Its files wait again; the finished file
            // becomes a new drop.
            try ctx.withdraw(drop.id, stage: name, changed)
        } catch let unavailable as GateHold.Unavailable {
            // The ledger's fault, not the drop's: validated again when its lease lapses.
            throw unavailable
        } catch {
            try OmniError.passCancellation(error)
            // Whatever went wrong, a clip or sidecar that is no longer the version taken (a re-export
            // truncating and rewriting it) explains it: withdrawn, not rejected — the originals stay.
            if let changed = try ctx.sourceChange(drop, when: "while it was validated", rows: rows) {
                try ctx.withdraw(drop.id, stage: name, changed)
                return true
            }
            try reject(drop, error, assets: assets)
        }
        // The transition rings the stage that takes the drop up next (WorkRings): convert, or archive.
        return true
    }

    /// The drop validated: its facts and its deliveries, in one transition.
    func accept(_ drop: DropRecord, _ outcome: Outcome, assets: AssetList) throws {
        try ctx.ledger.transitionDrop(
            drop.id, from: .received, to: .validated, stage: name, detail: outcome.summary,
            change: { d in
                d.clipSha256 = outcome.sha256
                d.clipXxh3 = outcome.xxh3
                d.clipBytes = outcome.bytes
                d.clipIdentity = outcome.identity
                d.manifestJson = outcome.manifestJson
                d.probeJson = outcome.probeJson
                d.assetsJson = assets.json
            }, handovers: outcome.handovers.map { SessionHandover(from: $0.from, target: $0.target, session: $0.session) },
            inserting: outcome.deliveries)
        let held = outcome.deliveries.filter(\.awaitsApproval).map(\.target)
        if !held.isEmpty {
            try ctx.ledger.note(
                .awaitingApproval, stage: .validate, dropId: drop.id,
                detail:
                    "waits for approval before \(held.joined(separator: ", ")): approve or reject it on the dashboard, with `omnipost approve|reject`, through the API, or by moving outbox/review/\(drop.id).yaml into outbox/review/approved/ or rejected/"
            )
            ReviewFile.write(dropId: drop.id, ctx: ctx)
        }
    }

    /// The drop rejected with its reason (a duplicate names the drop it repeats).
    func reject(_ drop: DropRecord, _ error: any Error, assets: AssetList) throws {
        let dup = error as? DuplicateDrop
        let e = dup?.error ?? OmniError.wrap(error)
        try ctx.ledger.transitionDrop(drop.id, from: .received, to: .rejected, stage: name, detail: "\(e.code): \(e.message)") { d in
            d.reasonCode = e.code.rawValue
            d.reasonMessage = e.message
            d.reasonLocation = e.location?.description
            d.duplicateOf = dup?.priorDrop
            d.assetsJson = assets.json
        }
        // A clip list's entry rings the archive lane that files everything through its event (`WorkRings`).
    }

    /// Every target already has this content: the drop is a duplicate of `priorDrop`.
    struct DuplicateDrop: Error {
        var error: OmniError
        var priorDrop: String
    }

    struct Outcome {
        var sha256: String
        /// The clip's XXH3-128 from the same read (nil for a slideshow): the upload's changed-file check.
        var xxh3: String?
        var bytes: Int64
        var identity: String?
        var manifestJson: String
        var probeJson: String?
        var deliveries: [DeliveryRecord]
        var summary: String
        /// Sessions of a retried drop's failed deliveries that this drop's deliveries take over.
        var handovers: [(from: Int64, target: String, session: String)] = []
    }

    /// What the per-target part needs to know of the thing being published, a clip or a slideshow.
    struct Source {
        var sha256: String
        /// The clip's XXH3-128, read with its sha256 (nil for a slideshow, which is no one file).
        var xxh3: String? = nil
        var bytes: Int64
        /// `FileIdentity` of the clip when hashed (nil for slideshows).
        var identity: String? = nil
        var durationS: Double
        var width: Int
        var height: Int
        var name: String
        var summary: String
        var probeJson: String?
        var plan: @Sendable (Profile) -> Planner.Decision
        /// The plan with a subtitle file burned into the picture (`burn_subtitles`); nil where there is no clip.
        var planBurning: (@Sendable (_ profile: Profile, _ subtitles: String, _ named: String, _ why: String) -> Planner.Decision)? = nil
    }

    /// The drop, step by step: its sidecar, the thing being published, its cover, then each target's
    /// delivery — and what they add up to.
    /// `rows`: the drop's file rows, if the caller read them (nil: read here).
    func validate(_ drop: DropRecord, assets: AssetList, hold: GateHold? = nil, rows read: [FileRecord]? = nil) async throws -> Outcome {
        let rows = try read ?? ctx.ledger.files(ofDrop: drop.id)
        // A file rewritten since it was recorded complete (a sidecar saved again in place, a re-export)
        // is not the version this drop took: it pairs again once the new version is complete.
        if let changed = try ctx.sourceChange(drop, when: "after it was taken", rows: rows) { throw changed }
        let sidecar = try await readSidecar(drop, assets: assets, rows: rows)
        let planner = Planner(ctx.config.convert)
        let source = try await source(of: drop, sidecar: sidecar, assets: assets, planner: planner)
        try await checkCover(sidecar, source: source, assets: assets)
        let tracks = try await checkSubtitles(drop, sidecar: sidecar, assets: assets)
        // The rules `omnipost check` applies too.
        let rules = DropRules(config: ctx.config, profiles: ctx.profiles, adapters: ctx.adapters)
        let targets = try rules.targets(for: sidecar.manifest, at: sidecar.location)
        // A model's text is asked for before the hold: a slow endpoint keeps no other drop waiting.
        let written = await writeText(drop, targets: targets, sidecar: sidecar, source: source, rules: rules)
        // From here to the transition one worker at a time, on this host and (the ledger's decisions
        // lock) across the hosts sharing the ledger: duplicates and slots are read from what the others
        // have claimed.
        try await hold?.acquire()
        let planned = try plan(drop, targets: targets, sidecar: sidecar, source: source, rules: rules, written: written, tracks: tracks)
        return try outcome(planned, sidecar: sidecar, source: source)
    }

    /// What the sidecar says, where it says it (the list entry's line for a clip list), and its folder.
    struct Sidecar {
        var manifest = Manifest()
        var location: SourceLocation?
        var dir: String
    }

    /// 1. The sidecar, or the pipeline's policy when there is none; what it overrides is checked against
    /// the platforms' rules at its line.
    func readSidecar(_ drop: DropRecord, assets: AssetList, rows: [FileRecord]? = nil) async throws -> Sidecar {
        var out = Sidecar(
            location: drop.sidecarPath.map { SourceLocation(file: $0) },
            dir: drop.sidecarPath.map { PathText.parent($0) } ?? "")
        if let s = drop.sidecarPath {
            // The sidecar's own real path must be inside the inbox, like every file it names: a link to
            // a file elsewhere is never read, so nothing of it can reach a report.
            let sidecarAbs = try InboxPaths.resolveInside(inbox: ctx.paths.inbox.path, relative: s)
            try checkSingleSidecar(drop, assets: assets, rows: rows)
            if ClipList.isClipList(s) {
                let list = try await StallGuard.run("reading \(s)", at: out.location) { _ in
                    try ctx.clipLists.load(path: sidecarAbs, displayName: s, maxEntries: ctx.config.sidecar.maxListEntries)
                }
                guard let i = drop.manifestEntry, i < list.entries.count else {
                    throw OmniError(.invalidValue, "the clip list changed while it was being read; drop it again", at: out.location)
                }
                out.manifest = list.entries[i].manifest
                out.location = list.entries[i].location
                for c in list.entries[i].candidates { try InboxPaths.checkReference(c, from: out.dir, at: out.location) }
            } else {
                let location = out.location
                // Parsed by the arrival check or the pairing already, as a rule: this is its last read.
                switch ctx.sidecars.lookup(path: sidecarAbs, displayName: s, taking: true) {
                case .hit(let parsed): out.manifest = try parsed.get()
                case .miss(let key):
                    out.manifest = try await StallGuard.run("reading \(s)", at: location) { _ in
                        try ctx.sidecars.read(path: sidecarAbs, displayName: s, key: key, taking: true)
                    }
                }
                if let c = out.manifest.clip { try InboxPaths.checkReference(c, from: out.dir, at: out.location) }
            }
            if let e = PlatformRegistry.rules.problems(of: out.manifest, file: s).first { throw e }
        } else if ctx.config.sidecar.missing == .fail {
            if let clip = drop.clipPath, try ctx.partnerOnItsWay(DropNaming.clipKeys(clip), role: .sidecar, waitOutBusy: false) {
                throw PartnerArrived(reason: "a sidecar for \(clip) arrived after its grace ran out")
            }
            if let clip = drop.clipPath,
                let odd = notRegular(DropNaming.clipKeys(clip).flatMap { k in DropNaming.sidecarExtensions.sorted().map { k + "." + $0 } }, for: "clip's sidecar")
            {
                throw odd
            }
            throw OmniError(
                .missingSidecar,
                "no sidecar (\(drop.stem).yaml, .yml or .json) arrived within \(Int(ctx.config.sidecar.grace.seconds)) s of the clip, and this pipeline requires one",
                at: drop.clipPath.map { SourceLocation(file: $0) })
        }
        return out
    }

    /// 2. What is being published: a clip (path, checksum, one probe) or a slideshow (its images).
    func source(of drop: DropRecord, sidecar: Sidecar, assets: AssetList, planner: Planner) async throws -> Source {
        let manifest = sidecar.manifest
        if let show = manifest.slideshow, let path = drop.sidecarPath {
            return try await slideshowSource(show, sidecar: path, dir: sidecar.dir, at: sidecar.location, assets: assets, planner: planner)
        }
        guard let clipRel = drop.clipPath else {
            if let s = drop.sidecarPath, !ClipList.isClipList(s),
                try ctx.partnerOnItsWay(
                    DropNaming.sidecarKeys(s) + [manifest.clip.map { AssembleStage.join(sidecar.dir, $0) }].compactMap { $0 },
                    role: .clip, waitOutBusy: false)
            {
                throw PartnerArrived(reason: "the clip for \(s) arrived after its grace ran out")
            }
            throw try missingClipError(drop, manifest: manifest, at: sidecar.location)
        }
        let names = manifest.targets ?? ctx.config.targets.map(\.name)
        return try await clipSource(clipRel, manifest: manifest, sidecar: drop.sidecarPath, planner: planner) { info in
            try rejectIfNoTargetTakes(info, clip: clipRel, targets: names, planner: planner)
        }
    }

    /// 3. The cover, if asked for: inside the inbox, an image by content, or a time inside the video.
    func checkCover(_ sidecar: Sidecar, source: Source, assets: AssetList) async throws {
        if let f = sidecar.manifest.coverFile {
            let abs = try assetPath(f, dir: sidecar.dir, at: sidecar.location, assets: assets, what: "cover image")
            _ = try await CoverMaker(tools: ctx.tools).checkImage(path: abs, displayName: AssembleStage.join(sidecar.dir, f))
        }
        if let ms = sidecar.manifest.coverAtMs, Double(ms) > source.durationS * 1000 {
            throw OmniError(.invalidValue, "cover at_ms \(ms) is past the end of the video (\(Planner.fmt(source.durationS)) s)", at: sidecar.location)
        }
    }

    /// The deliveries planned for a drop, and what they found of earlier drops.
    struct Planned {
        var deliveries: [DeliveryRecord] = []
        /// Earlier deliveries of the same content to the same target.
        var duplicates: [DeliveryRecord] = []
        var handovers: [(from: Int64, target: String, session: String)] = []
    }

    /// 4. Per target: metadata (the profile's text rules, the adapter's preflight), timing, plan, and
    /// whether an earlier drop already published it or left a session to take over.
    func plan(
        _ drop: DropRecord, targets: [TargetConfig], sidecar: Sidecar, source: Source, rules: DropRules, written: [String: CaptionWriter.Outcome] = [:],
        tracks: [CheckedTrack] = []
    ) throws -> Planned {
        let manifest = sidecar.manifest
        let vars = templateVariables(drop: drop, source: source, manifest: manifest)
        var out = Planned()
        let now = ctx.now.timeIntervalSince1970
        let when = try publishTime(manifest, rules: rules, location: sidecar.location, drop: drop.id, accounts: targets.map { "\($0.platform):\($0.account)" })
        for (index, t) in targets.enumerated() {
            let profile = try rules.profile(of: t)
            var meta = try rules.metadata(for: t, manifest: manifest, vars: vars, profile: profile, durationS: source.durationS)
            let timing = Self.timing(
                when: when, index: index, stagger: ctx.config.schedule.stagger, now: now,
                native: ctx.config.schedule.native && ctx.adapters[t.name]?.schedulesNatively == true)
            meta.publishAt = timing.nativeAt.map { Date(timeIntervalSince1970: $0) }
            try rules.preflight(t, meta, manifest: manifest, at: sidecar.location)
            if let outcome = written[t.name], let asked = CaptionWriter.ask(manifest, defaults: ctx.config.defaults) {
                let ask = CaptionWriter.ask(asked, for: t.platform)
                // The model's text passes what the templates' passed, or the templates' stands.
                var draft = try rules.draft(for: t, manifest: manifest, vars: vars, profile: profile)
                draft.publishAt = meta.publishAt
                meta = CaptionWriter.apply(outcome, ask: ask, model: ctx.config.captions?.model ?? "", draft: draft, fallback: meta) { m in
                    let final = try rules.finish(m, for: t, manifest: manifest, profile: profile, durationS: source.durationS)
                    try rules.preflight(t, final, manifest: manifest, at: sidecar.location)
                    return final
                }
            }
            let burning = Self.burnsSubtitles(manifest, platform: t.platform, options: meta.options, tracks: tracks, profile: profile.name)
            // A target that burns the track into its picture is not sent it as a track too.
            let owed = burning == nil ? Self.subtitleFollowUps(tracks, platform: t.platform) : []
            let followUps =
                owed + Self.playlistFollowUps(manifest, platform: t.platform, privacy: meta.privacy.rawValue)
                + (try Self.commentFollowUps(
                    manifest, platform: t.platform, override: meta.options["first_comment"], rules: meta.text ?? profile.text, at: sidecar.location))
            if !followUps.isEmpty { meta.followUps = followUps }
            var decision = source.plan(profile)
            if let why = burning, let track = tracks.first, let burn = source.planBurning {
                decision = burn(profile, track.copy, track.source, why)
            }
            var d = DeliveryRecord(
                dropId: drop.id, target: t.name, platform: t.platform, account: t.account, profile: t.profile,
                state: decision.kind == .reject ? .failed : .planned, plan: decision.kind,
                planDetail: decision.reasons.isEmpty ? nil : decision.reasons.joined(separator: "; "),
                specKey: decision.spec?.key, metadataJson: String(decoding: try JSONCoding.encoder(pretty: false).encode(meta), as: UTF8.self),
                contentSha256: source.sha256, notBefore: timing.holdUntil, now: now)
            d.priority = manifest.priority
            d.scheduledAt = timing.scheduledAt
            d.slotAt = when.slot
            if timing.holdUntil != nil { d.gate = "schedule" }
            if let spec = decision.spec { d.planDetail = (d.planDetail ?? "") + " ⇒ " + Self.describe(spec) }
            d.specJson = decision.spec.flatMap { try? String(decoding: JSONCoding.encoder(pretty: false).encode($0), as: UTF8.self) }
            if decision.kind == .reject {
                d.errorCode = decision.rejectCode?.rawValue
                d.errorMessage = decision.rejectMessage
            }
            try settleAgainstEarlierDrops(&d, drop: drop, manifest: manifest, source: source, into: &out)
            // `ai: {review: true}`: a person accepts or edits what the model wrote before it goes out.
            let review = written[t.name]?.content != nil && CaptionWriter.ask(manifest, defaults: ctx.config.defaults)?.review == true
            if d.state == .planned, ctx.config.approval.holds(t.name, sidecarRequires: manifest.approvalRequired == true || review) {
                // Converted as usual, then held: nothing is sent until a person approves (its schedule,
                // if any, starts counting then).
                d.gate = Ledger.approvalGate
                d.notBefore = Ledger.approvalHold
                d.errorMessage = "waits for a person to approve it"
            }
            out.deliveries.append(d)
        }
        return out
    }

    /// 5. The same content sent to the same target before: a failed delivery's session is taken over (a
    /// retried drop), anything else makes this one a duplicate — unless the sidecar says `republish`.
    func settleAgainstEarlierDrops(_ d: inout DeliveryRecord, drop: DropRecord, manifest: Manifest, source: Source, into out: inout Planned) throws {
        let prior = manifest.republish ? nil : try ctx.ledger.priorDelivery(contentSha256: source.sha256, target: d.target, excludingDrop: drop.id)
        if let prior, prior.state == .failed, prior.sessionPolicy == .handover, let session = prior.remoteSession, let from = prior.id {
            // The drop it failed in was retried: this delivery takes its session over and reconciles it
            // before sending anything — a post found there is recorded, a failed one replaced.
            if d.state == .planned {
                d.remoteSession = session
                d.sessionPolicy = .carried
                out.handovers.append((from, d.target, session))
            }
        } else if let prior {
            d.state = .cancelled
            d.errorCode = ReasonCode.duplicate.rawValue
            d.errorMessage = "already \(prior.state == .published ? "published" : "being published") by drop \(prior.dropId)" + (prior.remoteUrl.map { " at \($0)" } ?? "")
            out.duplicates.append(prior)
        }
    }

    /// 6. What the deliveries add up to: a duplicate drop, a rejection with every target's reason, or
    /// the outcome to record.
    func outcome(_ planned: Planned, sidecar: Sidecar, source: Source) throws -> Outcome {
        let deliveries = planned.deliveries, manifest = sidecar.manifest
        if let first = planned.duplicates.first, planned.duplicates.count == deliveries.count {
            throw DuplicateDrop(
                error: OmniError(
                    .duplicate,
                    "this \(manifest.slideshow == nil ? "clip" : "slideshow") (sha256 \(source.sha256.prefix(12))…) was already dropped as \(first.dropId) for \(deliveries.map(\.target).joined(separator: ", ")); set `republish: true` in the sidecar to post it again",
                    at: sidecar.location ?? SourceLocation(file: source.name)), priorDrop: first.dropId)
        }
        if deliveries.allSatisfy({ $0.state == .failed }), let d = deliveries.first {
            // Every target's own reason, each under its own name.
            throw OmniError(
                ReasonCode(d.errorCode ?? "rejected"),
                deliveries.map { "\($0.target): \($0.errorMessage ?? "rejected")" }.joined(separator: "; "), at: SourceLocation(file: source.name))
        }
        let summary =
            source.summary + "; "
            + deliveries.map { "\($0.target): \($0.state == .planned ? $0.plan.rawValue : "\($0.state.rawValue) (\($0.errorCode ?? ""))")" }.joined(separator: ", ")
        return Outcome(
            sha256: source.sha256, xxh3: source.xxh3, bytes: source.bytes, identity: source.identity,
            manifestJson: String(decoding: try JSONCoding.encoder(pretty: false).encode(manifest), as: UTF8.self),
            probeJson: source.probeJson, deliveries: deliveries, summary: summary, handovers: planned.handovers)
    }

    /// A clip claimed by two sidecars (`c.yaml` and `c.json`) is not published with either: which one
    /// the user meant cannot be known. All of them go to failed/ with the drop.
    func checkSingleSidecar(_ drop: DropRecord, assets: AssetList, rows: [FileRecord]? = nil) throws {
        let sidecars = try (rows ?? ctx.ledger.files(ofDrop: drop.id)).filter { $0.role == .sidecar }.map(\.path)
        guard sidecars.count > 1 else {
            // A rival that turned up between pairing and now: pair again, so the drop fails whole
            // (`ambiguous_sidecar` naming both) instead of going out with whichever settled first.
            if let clip = drop.clipPath, let s = drop.sidecarPath, !ClipList.isClipList(s),
                try ctx.rivalSidecar(ofClip: clip, known: Set(sidecars))
            {
                throw PartnerArrived(reason: "a second sidecar for \(clip) arrived beside \(s)")
            }
            return
        }
        for p in sidecars where p != drop.sidecarPath { assets.add(p) }
        throw OmniError(
            .ambiguousSidecar,
            "\(sidecars.joined(separator: " and ")) are both sidecars of \(drop.clipPath ?? drop.stem); keep exactly one and drop the clip again",
            at: SourceLocation(file: sidecars[0]))
    }

    /// A partner that is there but is no regular file (a FIFO, a folder, a device named `x.mp4` or
    /// `x.yaml`): the watcher never takes one, so it was answered as missing — it is named for what it is.
    func notRegular(_ candidates: [String], for what: String, at location: SourceLocation? = nil) -> OmniError? {
        for rel in candidates {
            var st = stat()
            guard lstat(ctx.inboxPath(rel), &st) == 0 else { continue }
            let kind = st.st_mode & S_IFMT
            if kind == S_IFREG || kind == S_IFLNK { continue }
            return OmniError(
                .notRegularFile, "the \(what) \(rel) is \(UserFile.kindName(mode: st.st_mode)), not a regular file; it was not read (it is left where it is)",
                at: location ?? SourceLocation(file: rel))
        }
        return nil
    }

    /// Why a sidecar's clip is not here: it never arrived, or another sidecar already took it.
    func missingClipError(_ drop: DropRecord, manifest: Manifest, at location: SourceLocation?) throws -> OmniError {
        if let s = drop.sidecarPath {
            let dir = PathText.parent(s)
            let stems =
                manifest.clip.map { [AssembleStage.join(dir, $0)] }
                ?? DropNaming.sidecarKeys(s).flatMap { k in [k] + DropNaming.clipExtensions.sorted().map { k + "." + $0 } }
            if let odd = notRegular(stems, for: "sidecar's clip", at: location) { return odd }
            if let (file, other) = try ctx.ledger.takenFile(atAny: stems), other.id != drop.id, file.role == .clip {
                return OmniError(
                    .ambiguousSidecar,
                    "\(file.path) was already taken by drop \(other.id) with \(other.sidecarPath ?? "no sidecar"); \(s) is a second sidecar for the same clip, so it was not used",
                    at: location)
            }
        }
        return OmniError(
            .missingClip,
            "the sidecar's clip \(manifest.clip.map { "'\($0)'" } ?? "(\(drop.stem).mp4 or another video with the same name)") did not arrive within \(Int(ctx.config.sidecar.grace.seconds)) s",
            at: location)
    }

    /// When the drop should go public: an explicit `publish_at`, the next free slot of the pipeline's
    /// schedule (`next_slot`), or as soon as possible (nil).
    func publishTime(_ m: Manifest, rules: DropRules, location: SourceLocation?, drop: String? = nil, accounts: [String] = []) throws -> (
        at: Double?, slot: Double?
    ) {
        try rules.checkPublishTime(m, now: ctx.now, at: location)
        if m.publishAtNextSlot {
            let schedule = ctx.config.schedule
            let taken = try ctx.ledger.takenSlots(from: ctx.now.timeIntervalSince1970)
            if schedule.best {
                let (slot, why) = try BestSlot(ledger: ctx.ledger, schedule: schedule).choose(accounts: accounts, after: ctx.now, taken: taken)
                try ctx.ledger.note(.slotChosen, stage: .validate, dropId: drop, detail: why)
                guard let slot else { throw OmniError(.noSlot, "no publishing slot for pipeline \(ctx.config.name): \(why)", at: m.publishAtLocation ?? location) }
                return (slot.timeIntervalSince1970, slot.timeIntervalSince1970)
            }
            guard let slot = schedule.next(after: ctx.now, taken: taken) else {
                throw OmniError(.noSlot, "no free publishing slot in the next year of pipeline \(ctx.config.name)'s schedule", at: m.publishAtLocation ?? location)
            }
            return (slot.timeIntervalSince1970, slot.timeIntervalSince1970)
        }
        return (m.publishAt?.timeIntervalSince1970, nil)
    }

    /// One target's timing: its publish time staggered by its position among the drop's targets; then
    /// either the platform schedules it (upload now, `publishAt` in the metadata) or OmniPost holds the
    /// upload until then. A time already past means now.
    static func timing(when: (at: Double?, slot: Double?), index: Int, stagger: Double, now: Double, native: Bool)
        -> (scheduledAt: Double?, nativeAt: Double?, holdUntil: Double?)
    {
        let offset = Double(index) * stagger
        guard let at = when.at.map({ $0 + offset }) ?? (offset > 0 ? now + offset : nil), at > now + 1 else { return (nil, nil, nil) }
        return native && when.at != nil ? (at, at, nil) : (at, nil, at)
    }

    /// A clip: inside the inbox, readable, matching its checksum, and probed once.
    func clipSource(
        _ clipRel: String, manifest: Manifest, sidecar: String?, planner: Planner,
        beforeHash: (MediaInfo) throws -> Void = { _ in }
    ) async throws -> Source {
        // The clip must really be inside the inbox (a symlink may point anywhere).
        let clipPath = try InboxPaths.resolveInside(inbox: ctx.paths.inbox.path, relative: clipRel)
        // The identity is pinned around the hash and the probe: a file that changed while it was read
        // was still being written, and so is every later step's business to notice (SourceChanged → withdrawn).
        let pinned = FileIdentity.of(path: clipPath)
        // Probed before it is hashed (unless the sidecar gives a checksum, which is verified before anything
        // else): ffprobe reads a header, the hash reads every byte — a 100 GB file that is not a video, or
        // that no target could take, is answered without reading it.
        var probed: MediaInfo?
        if manifest.sha256 == nil {
            let info = try await Prober(tools: ctx.tools).probe(path: clipPath, displayName: clipRel)
            try beforeHash(info)
            probed = info
        }
        // On a thread of its own with a deadline on progress: a hung mount fails this drop, not the stage.
        // A FIFO, socket or device (or a link to one) is refused unopened: `not_regular_file`.
        let hash = try await StallGuard.run("reading \(clipRel)", at: SourceLocation(file: clipRel)) { g in
            // Its XXH3-128 in the same read: what a pass-through upload checks the file against.
            try FileHashing.digests(path: clipPath, displayName: clipRel, tick: g.tick)
        }
        if let pinned, let why = pinned.change(at: clipPath) ?? (pinned.size != hash.bytes ? "it was \(hash.bytes) bytes when read" : nil) {
            throw SourceChanged(reason: "\(clipRel) changed while it was being read: \(why)")
        }
        if hash.bytes == 0 { throw OmniError(.emptyFile, "\(clipRel) is empty (0 bytes)", at: SourceLocation(file: clipRel)) }
        if let expected = manifest.sha256, expected != hash.hex {
            throw OmniError(
                .checksumMismatch, "\(clipRel) has sha256 \(hash.hex), the sidecar says \(expected): the file is damaged or incomplete",
                at: sidecar.map { SourceLocation(file: $0) })
        }
        FaultInjection.trapIfAsked(stage: "validate", name: clipRel)
        let info: MediaInfo
        if let probed {
            info = probed
        } else {
            info = try await Prober(tools: ctx.tools).probe(path: clipPath, displayName: clipRel)
            try beforeHash(info)
        }
        // What was probed is what was hashed.
        if let pinned, let why = pinned.change(at: clipPath) {
            throw SourceChanged(reason: "\(clipRel) changed while it was being probed: \(why)")
        }
        let v = info.video!
        return Source(
            sha256: hash.hex, xxh3: hash.xxh3, bytes: hash.bytes, identity: pinned?.description, durationS: info.durationS, width: v.width, height: v.height, name: clipRel,
            summary: "\(v.width)×\(v.height) \(v.codec) \(Planner.fmt(v.fps)) fps \(Planner.fmt(info.durationS)) s",
            probeJson: String(decoding: try JSONCoding.encoder(pretty: false).encode(info), as: UTF8.self),
            plan: { planner.plan(info, for: $0) }, planBurning: { planner.plan(info, for: $0, burning: $1, named: $2, because: $3) })
    }

    /// When no target can take the clip as probed (too long, too small, too large to fit…), the answer is
    /// known before a byte is hashed: the same rejection validation would give after it, each target's
    /// own reason under its name. Targets the sidecar names that do not exist are answered later, at their line.
    func rejectIfNoTargetTakes(_ info: MediaInfo, clip: String, targets names: [String], planner: Planner) throws {
        let profiles = names.compactMap { ctx.config.target(named: $0) }.compactMap { ctx.profiles[$0.profile] }
        guard !profiles.isEmpty, profiles.count == names.count else { return }
        let decisions = profiles.map { planner.plan(info, for: $0) }
        guard decisions.allSatisfy({ $0.kind == .reject }) else { return }
        throw OmniError(
            decisions[0].rejectCode ?? ReasonCode("rejected"),
            zip(names, decisions).map { "\($0): \($1.rejectMessage ?? "rejected")" }.joined(separator: "; "), at: SourceLocation(file: clip))
    }

    /// A slideshow: every image checked by content, the soundtrack has sound; its identity is the sidecar
    /// and every file it uses, hashed together.
    func slideshowSource(_ show: Slideshow, sidecar: String, dir: String, at loc: SourceLocation?, assets: AssetList, planner: Planner) async throws -> Source {
        var hashes = [try FileHashing.sha256(path: try InboxPaths.resolveInside(inbox: ctx.paths.inbox.path, relative: sidecar)).hex]
        var total: Int64 = 0
        for img in show.images {
            let abs = try assetPath(img.file, dir: dir, at: loc, assets: assets, what: "image")
            _ = try await CoverMaker(tools: ctx.tools).checkImage(path: abs, displayName: AssembleStage.join(dir, img.file))
            let h = try FileHashing.sha256(path: abs)
            hashes.append(h.hex)
            total += h.bytes
        }
        if let audio = show.audio {
            let abs = try assetPath(audio, dir: dir, at: loc, assets: assets, what: "soundtrack")
            let r = try await ctx.tools.run(
                "ffprobe", ["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_type", "-of", "csv=p=0", "file:" + abs], timeout: .seconds(30))
            guard r.status == 0, r.stdout.contains("audio") else {
                throw OmniError(.invalidValue, "the soundtrack '\(audio)' has no audio stream ffprobe can read", at: loc)
            }
            hashes.append(try FileHashing.sha256(path: abs).hex)
        }
        let duration = show.duration
        let hasAudio = show.audio != nil
        return Source(
            sha256: FileHashing.sha256(data: Data(hashes.joined(separator: "\n").utf8)), bytes: total, durationS: duration,
            width: 0, height: 0, name: sidecar,
            summary:
                "slideshow: \(show.images.count) images, \(Planner.fmt(duration)) s\(show.crossfade > 0 ? ", \(Planner.fmt(show.crossfade)) s crossfades" : "")\(hasAudio ? ", soundtrack" : "")",
            probeJson: nil, plan: { planner.planSlideshow(durationS: duration, hasAudio: hasAudio, for: $0) })
    }

    /// A file a sidecar names besides its clip: inside the inbox, present, and recorded as the drop's.
    func assetPath(_ ref: String, dir: String, at loc: SourceLocation?, assets: AssetList, what: String) throws -> String {
        try InboxPaths.checkReference(ref, from: dir, at: loc)
        let rel = AssembleStage.join(dir, ref)
        let abs = try InboxPaths.resolveInside(inbox: ctx.paths.inbox.path, relative: rel)
        guard FileManager.default.fileExists(atPath: abs) else {
            throw OmniError(.missingFile, "the \(what) '\(ref)' is not in the inbox", at: loc)
        }
        assets.add(rel)
        return abs
    }

    /// What the rendition is, stream by stream: "remux to mp4", "video copied, audio aac 2 ch → mov",
    /// "1920×1080 hevc 10-bit HDR (pq) 30 fps (scale), audio copied → mp4".
    static func describe(_ s: RenditionSpec) -> String {
        let out = " → \(s.fileExtension)"
        let audio: String
        if s.audioCopy == true {
            audio = "audio copied"
        } else if s.addSilentAudio {
            audio = "silent \(s.audioCodec ?? "aac") track added"
        } else if s.hasAudio {
            audio = "audio \(s.audioCodec ?? "aac") \(s.audioChannels ?? 2) ch \(s.audioKbps ?? 128)k"
        } else {
            audio = "no audio"
        }
        switch s.kind {
        case .remux: return "remux, every stream copied\(out)"
        case .audio: return "video copied, \(audio)\(out)"
        case .transcode:
            let depth = PixelFormat.bitDepth(s.pixelFormat ?? "yuv420p")
            let colour = s.toneMapFrom != nil ? " tone-mapped to SDR BT.709" : s.colour?.hdr.map { " HDR (\($0.rawValue))" } ?? ""
            return
                "\(s.deinterlace == true ? "deinterlaced, " : "")\(s.width)×\(s.height) \(s.videoCodec ?? "h264") \(depth)-bit\(colour)\(s.fps.map { " \(Planner.fmt($0)) fps" } ?? "") (\(s.geometry.rawValue)), \(audio)\(out)"
        }
    }

    func templateVariables(drop: DropRecord, source: Source, manifest: Manifest) -> [String: String] {
        DropRules.variables(
            fields: manifest.fields, stem: drop.stem, filename: (source.name as NSString).lastPathComponent, now: ctx.now,
            durationS: source.durationS, width: source.width, height: source.height, pipeline: ctx.config.name)
    }
}

/// Inbox-relative paths of the extra originals a drop uses, collected while validating.
final class AssetList: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ p: String) { lock.lock(); if !items.contains(p) { items.append(p) }; lock.unlock() }
    var json: String? {
        lock.lock(); defer { lock.unlock() }
        return items.isEmpty ? nil : String(decoding: (try? JSONEncoder().encode(items)) ?? Data(), as: UTF8.self)
    }
}

/// The clip changed between being taken and being used: withdraw the drop, do not fail it.
struct SourceChanged: Error {
    var reason: String
    /// Only the sidecar changed: the clip waits again as it is, to pair with the sidecar's newest version.
    var keepsClip = false
    /// The sidecar that changed, when it is the sidecar.
    var path: String?
}

/// A lone clip's sidecar, or a lone sidecar's clip, turned up after all: withdraw, let them pair.
struct PartnerArrived: Error {
    var reason: String
}
