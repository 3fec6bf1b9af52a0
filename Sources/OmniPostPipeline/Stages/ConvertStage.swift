import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostMedia
import OmniPostPlatforms

/// Produces each distinct rendition a validated drop needs — one ffmpeg run per distinct spec, shared
/// by the targets that need it — and marks the deliveries ready. One transcode at a time: ffmpeg
/// gets both cores rather than two ffmpegs fighting over them. A second, quick lane takes only drops
/// that need no transcode (pass-through, remux), so they overtake a long conversion instead of
/// waiting minutes behind it. (An audio-only plan copies the video: it is quick too.)
struct ConvertStage: Stage {
    enum Lane { case any, quick }
    let name = "convert"
    /// Each lane is a loop of its own, its liveness watched apart (events keep the stage's name).
    var loopName: String { lane == .quick ? "convert.quick" : "convert" }
    var rungBy: Wakeup.Topic { .validated }
    let ctx: PipelineContext
    var lane: Lane = .any

    /// How long a drop waits for a less busy host per conversion this host holds beyond that host's
    /// (docs/several-hosts.md, "Roles and the least busy host").
    static let headStart: Double = 2

    /// On a shared ledger a drop left to a less busy host is looked at again once its head start is over.
    func nextDeadline() throws -> Date? {
        ctx.config.sharedLedger == nil ? nil : ctx.now.addingTimeInterval(Self.headStart)
    }

    func step() async throws -> Bool {
        // Several hosts: a host holding more conversions than the least busy one that may convert leaves
        // a new drop to that host for a head start; past it, anyone with a free lane takes it.
        let ahead = try ctx.ledger.conversionsAheadOfLeastBusy(host: ctx.config.host.name)
        let validatedBefore = ahead > 0 ? ctx.now.timeIntervalSince1970 - Double(ahead) * Self.headStart : nil
        guard
            let drop = try ctx.ledger.claimDropToConvert(
                owner: ctx.owner, lane: lane == .quick ? .quick : .any, lease: ctx.dropLease(3600), validatedBefore: validatedBefore)
        else {
            return false
        }
        // In hand while it converts: the heartbeat keeps a live host's conversion from every other host.
        ctx.dropsInHand.hold(drop.id)
        defer { ctx.dropsInHand.letGo(drop.id) }
        let deliveries = try ctx.ledger.deliveries(forDrop: drop.id).filter { $0.state == .planned }
        defer { ctx.removePinnedInputs(drop) }
        do {
            let clipPath = try drop.clipPath.map { try InboxPaths.resolveInside(inbox: ctx.paths.inbox.path, relative: $0) }
            // What is converted is what was hashed: a clip changed since (still being written) withdraws the drop.
            try Self.checkPinned(drop, clipPath, "after it was taken")
            // ffmpeg reads the clip by a name in work/ hard-linked from a descriptor opened where it was
            // taken, never through the inbox path, whose folders may be swapped for links meanwhile. Made
            // only when ffmpeg is to read it (a rendition, a cover): a drop passed through as it is needs
            // no work/ folder — its mkdir, link, unlink and rmdir were a fifth of a pass-through drop's
            // bookkeeping on this ext4 (issue 30: a new folder's inode is costly to allocate).
            var pinnedClip: String?? = nil
            func ffmpegClip() throws -> String? {
                if let made = pinnedClip { return made }
                let made =
                    try drop.clipPath.flatMap { rel in
                        try ctx.pinnedInput(drop, rel: rel, inbox: ctx.openInbox(), rows: ctx.ledger.files(ofDrop: drop.id), copying: false)
                    } ?? clipPath
                pinnedClip = .some(made)
                return made
            }
            let info = try drop.probe
            let manifest = try drop.manifest
            var renditions: [String: RenditionFile] = [:]
            var chosen: [Int64: RenditionFile] = [:]
            // A rendition shared by several targets is checked against each target's own profile, and a
            // failure is that target's alone — named with its own profile, never with the first sharer's.
            var failed: [Int64: OmniError] = [:]
            var renderErrors: [String: OmniError] = [:]
            var probes: [String: MediaInfo] = [:]
            for d in deliveries {
                do {
                    if d.plan == .pass {
                        // Byte-identical: the original itself is sent.
                        guard let clipPath else { throw OmniError(.missingClip, "the drop has no clip to pass through") }
                        chosen[d.id!] = RenditionFile(path: clipPath, sha: drop.clipSha256 ?? "", xxh3: drop.clipXxh3, bytes: drop.clipBytes ?? 0)
                        continue
                    }
                    let r: RenditionFile
                    if let key = d.specKey, let cached = renditions[key] {
                        r = cached
                    } else if let key = d.specKey, let e = renderErrors[key] {
                        throw e
                    } else {
                        do {
                            let made = try await render(drop: drop, delivery: d, clipPath: try ffmpegClip(), source: info, manifest: manifest)
                            r = RenditionFile(path: made.path, sha: made.sha, xxh3: made.xxh3, bytes: made.bytes)
                            // The converter's own probe of what it made: the rendition is not probed twice.
                            if let key = d.specKey, let probed = made.info { probes[key] = probed }
                        } catch {
                            try OmniError.passCancellation(error)
                            if let key = d.specKey { renderErrors[key] = OmniError.wrap(error) }
                            throw error
                        }
                        if let key = d.specKey { renditions[key] = r }
                    }
                    if let profile = ctx.profiles[d.profile] {
                        let key = d.specKey ?? r.path
                        let probed: MediaInfo
                        if let p = probes[key] {
                            probed = p
                        } else {
                            probed = try await Prober(tools: ctx.tools).probe(path: r.path, displayName: (r.path as NSString).lastPathComponent)
                            probes[key] = probed
                        }
                        let check = Planner(ctx.config.convert).plan(probed, for: profile)
                        if check.kind != .pass {
                            throw OmniError(.renditionInvalid, "\(d.target): the converted file still does not meet \(profile.name): \(check.reasons.joined(separator: "; "))")
                        }
                    }
                    chosen[d.id!] = r
                } catch {
                    try OmniError.passCancellation(error)
                    // A slideshow image (or soundtrack) that is not the file taken withdraws the whole drop.
                    if error is SourceChanged { throw error }
                    failed[d.id!] = OmniError.wrap(error)
                }
            }
            // Converted from the bytes that were hashed — or the clip changed under ffmpeg: withdraw.
            try Self.checkPinned(drop, clipPath, "while it was being converted")
            let failures = deliveries.compactMap { d -> Ledger.DeliveryMove? in
                guard let e = failed[d.id!] else { return nil }
                return Ledger.DeliveryMove(d.id!, from: .planned, to: .failed, detail: "\(e.code): \(e.message)") { x in
                    x.errorCode = e.code.rawValue
                    x.errorMessage = e.message
                }
            }
            // The cover comes from the clip, or — for a slideshow — from its first rendition.
            let needsPoster = deliveries.contains { chosen[$0.id!] != nil && PlatformRegistry.descriptor($0.platform)?.needsPoster == true }
            let coverWanted = needsPoster || manifest?.coverAtMs != nil || manifest?.coverFile != nil
            let cover = try await makeCover(
                drop: drop, manifest: manifest, clipPath: coverWanted ? try ffmpegClip() ?? chosen.values.first?.path : nil,
                poster: needsPoster, durationS: info?.durationS ?? 0)
            let coverAsked = manifest?.coverAtMs != nil || manifest?.coverFile != nil
            // Every delivery failed or made ready and the drop converted in one commit (they were one commit each).
            let ready = deliveries.compactMap { d -> Ledger.DeliveryMove? in
                guard let r = chosen[d.id!] else { return nil }
                // A poster made only because a target needs one is that target's, not a cover for the rest.
                let coverPath = coverAsked || PlatformRegistry.descriptor(d.platform)?.needsPoster == true ? cover : nil
                return Ledger.DeliveryMove(
                    d.id!, from: .planned, to: .ready,
                    detail: d.plan == .pass ? "pass-through" : "\(d.plan.rawValue) → \((r.path as NSString).lastPathComponent)"
                ) { x in
                    x.renditionPath = r.path
                    x.renditionSha256 = r.sha
                    x.renditionXxh3 = r.xxh3
                    x.renditionBytes = r.bytes
                    x.coverPath = coverPath
                }
            }
            try ctx.ledger.transitionDrop(
                drop.id, from: .validated, to: .converted, stage: name,
                detail: (renditions.isEmpty ? "nothing to convert" : "\(renditions.count) rendition(s)")
                    + (failed.isEmpty ? "" : "; \(failed.count) target(s) failed"), moving: failures + ready)
        } catch {
            try OmniError.passCancellation(error)
            // An ffmpeg that failed on a clip being rewritten (a re-export) failed on the new export's
            // first bytes: that is a changed source, withdrawn, not a failed conversion.
            let changed = try (error as? SourceChanged) ?? ctx.sourceChange(drop, when: "while it was converted")
            if let changed, try ctx.withdraw(drop.id, stage: name, changed) { return true }
            let e = changed.map { OmniError(.sourceChanged, $0.reason) } ?? OmniError.wrap(error)
            // The conversion failed for this drop: its planned deliveries fail with the reason, the drop
            // moves on so the archive stage quarantines the original with a report.
            for d in try ctx.ledger.deliveries(forDrop: drop.id) where d.state == .planned {
                try ctx.ledger.transitionDelivery(d.id!, from: .planned, to: .failed, stage: name, detail: "\(e.code): \(e.message)") { x in
                    x.errorCode = e.code.rawValue
                    x.errorMessage = e.message
                }
            }
            try ctx.ledger.transitionDrop(drop.id, from: .validated, to: .converted, stage: name, detail: "\(e.code): \(e.message)")
        }
        // `converted` rings the upload loop and the archive stage (WorkRings).
        return true
    }

    /// The clip must still be the file that was hashed at validation (device, inode, size, mtime).
    static func checkPinned(_ drop: DropRecord, _ clipPath: String?, _ when: String) throws {
        guard let text = drop.clipIdentity, let pinned = FileIdentity(text), let clipPath, let why = pinned.change(at: clipPath) else { return }
        throw SourceChanged(reason: "\(drop.clipPath ?? clipPath) changed \(when): \(why)")
    }

    /// One cover per drop, in work/, when the sidecar asks for one.
    /// The drop's cover as its sidecar asks; without one, when a target needs a poster (Reddit), a frame
    /// a second in (or halfway through a shorter clip). A poster that cannot be made fails only the
    /// targets that need one, at upload.
    private func makeCover(drop: DropRecord, manifest: Manifest?, clipPath: String?, poster: Bool, durationS: Double) async throws -> String? {
        let out = ctx.paths.work.appendingPathComponent(drop.id).appendingPathComponent("cover.jpg").path
        guard let m = manifest, m.coverAtMs != nil || m.coverFile != nil else {
            guard poster, let clipPath else { return nil }
            if FileManager.default.fileExists(atPath: out) { return out }
            try FileManager.default.createDirectory(atPath: PathText.parent(out), withIntermediateDirectories: true)
            let at = Int(min(1.0, max(0, durationS) / 2) * 1000)
            return (try? await CoverMaker(tools: ctx.tools).make(clip: clipPath, atMs: at, image: nil, output: out)).map { out }
        }
        if FileManager.default.fileExists(atPath: out) { return out }
        try FileManager.default.createDirectory(atPath: PathText.parent(out), withIntermediateDirectories: true)
        let dir = drop.sidecarPath.map { PathText.parent($0) } ?? ""
        // The cover image as it was taken, through the inbox folder's descriptor: never a path re-resolved
        // through a folder that may since have been swapped for a link to elsewhere.
        let image = try m.coverFile.map { f in
            try ctx.pinnedInput(drop, rel: AssembleStage.join(dir, f), inbox: ctx.openInbox(), rows: ctx.ledger.files(ofDrop: drop.id))
        }
        try await CoverMaker(tools: ctx.tools).make(clip: clipPath, atMs: m.coverAtMs, image: image, output: out)
        return out
    }

    /// The rendition a delivery's spec asks for, made unless a run before a crash renamed it into place;
    /// with the converter's probe of it when it was made now.
    private func render(drop: DropRecord, delivery d: DeliveryRecord, clipPath: String?, source: MediaInfo?, manifest: Manifest?) async throws -> (
        path: String, sha: String, xxh3: String, bytes: Int64, info: MediaInfo?
    ) {
        let durationS = source?.durationS ?? 0
        guard let key = d.specKey, let spec = try d.renditionSpec else { throw OmniError(.internalError, "delivery \(d.id ?? 0) has no rendition spec") }
        let out = ctx.paths.work.appendingPathComponent(drop.id).appendingPathComponent("\(key).\(spec.fileExtension)").path
        var made: MediaInfo?
        // A rendition renamed into place before a crash is complete and verified: reuse it.
        if !FileManager.default.fileExists(atPath: out) {
            // Checked against each sharing target's profile by the caller, not here against the first one's.
            let planner = Planner(ctx.config.convert)
            let ledger = ctx.ledger, sink = ctx.progress, dropId = drop.id, target = d.target
            let lastQuarter = Counter()
            let liveness = ctx.liveness, stageName = loopName
            let onProgress: @Sendable (Converter.Progress) -> Void = { p in
                // A long conversion is alive while ffmpeg reports progress (each -progress block).
                liveness.beat(stageName)
                let q = Int(p.fraction * 4)
                if q > lastQuarter.value, q < 4 {
                    lastQuarter.value = q
                    let line = "\(q * 25)%" + (p.speed.map { " at \($0)" } ?? "")
                    try? ledger.note(.progress, stage: .convert, dropId: dropId, target: target, detail: line)
                    sink.line("  \(dropId)  convert    \(line)")
                }
            }
            let started = ContinuousClock.now
            if spec.slideshow, let show = manifest?.slideshow, let sidecar = drop.sidecarPath {
                ctx.progress.line("  \(drop.id)  convert    slideshow for \(d.target) …")
                let dir = PathText.parent(sidecar)
                // Each image and the soundtrack reached from the inbox folder's descriptor, checked against
                // the file the drop took, and handed to ffmpeg as a private name in work/.
                let inbox = try ctx.openInbox(), rows = try ctx.ledger.files(ofDrop: drop.id)
                let input = SlideshowRenderer.Input(
                    images: try show.images.map { (try ctx.pinnedInput(drop, rel: AssembleStage.join(dir, $0.file), inbox: inbox, rows: rows), $0.seconds) },
                    crossfade: show.crossfade,
                    audio: try show.audio.map { try ctx.pinnedInput(drop, rel: AssembleStage.join(dir, $0), inbox: inbox, rows: rows) })
                made = try await SlideshowRenderer(tools: ctx.tools).render(
                    input, spec: spec, output: out, verifyAgainst: nil,
                    planner: planner, onProgress: onProgress)
            } else {
                guard let clipPath else { throw OmniError(.missingClip, "the drop has no clip to convert") }
                ctx.progress.line("  \(drop.id)  convert    \(spec.kind.rawValue) for \(d.target) …")
                made = try await Converter(tools: ctx.tools).convert(
                    input: clipPath, output: out, spec: spec, durationS: durationS, verifyAgainst: nil, planner: planner,
                    source: source, onProgress: onProgress)
            }
            // ffmpeg's time, per rendition, for `/metrics` (omnipost_ffmpeg_seconds) and the drop's timeline.
            let took = ContinuousClock.now - started
            let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
            let work = spec.slideshow ? "slideshow" : spec.kind.rawValue
            try? ctx.ledger.note(
                .rendered, stage: .convert, dropId: drop.id, target: d.target,
                detail: String(format: "ffmpeg took %.3f s (%@)", seconds, work), data: .rendered(seconds: seconds, work: work))
        }
        // Its XXH3-128 in the same read: what its upload checks the file against.
        let hash = try FileHashing.digests(path: out)
        return (out, hash.hex, hash.xxh3, hash.bytes, made)
    }
}

/// The file a delivery sends: a rendition, or the clip itself (pass-through), with its digests.
struct RenditionFile {
    var path: String
    var sha: String
    /// Nil for a pass-through clip of a drop taken before ledger v22.
    var xxh3: String?
    var bytes: Int64
}

/// A mutable integer a progress closure can update.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var v = 0
    var value: Int {
        get { lock.lock(); defer { lock.unlock() }; return v }
        set { lock.lock(); v = newValue; lock.unlock() }
    }
    func add(_ d: Int) { lock.lock(); v += d; lock.unlock() }
}
