import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostMedia
import OmniPostPlatforms

/// Turns a received drop into planned deliveries, or rejects it with a reason: parse the sidecar,
/// check the clip's path and checksum, probe it once, and plan each target against its profile.
struct ValidateStage: Stage {
    let name = "validate"
    let ctx: PipelineContext

    func step() async throws -> Bool {
        guard let drop = try ctx.ledger.claimDrop(in: .received, owner: ctx.owner) else { return false }
        // Other originals the sidecar names (a cover image…), known once their paths are safe: they go
        // where the drop goes, accepted or not.
        let assets = AssetList()
        do {
            let outcome = try await validate(drop, assets: assets)
            try ctx.ledger.transitionDrop(drop.id, from: .received, to: .validated, stage: name, detail: outcome.summary, change: { d in
                d.clipSha256 = outcome.sha256
                d.clipBytes = outcome.bytes
                d.manifestJson = outcome.manifestJson
                d.probeJson = outcome.probeJson
                d.assetsJson = assets.json
            }, alsoInTransaction: { db in
                for var d in outcome.deliveries { try d.insert(db) }
            })
        } catch {
            let dup = error as? DuplicateDrop
            let e = dup?.error ?? OmniError.wrap(error)
            try ctx.ledger.transitionDrop(drop.id, from: .received, to: .rejected, stage: name, detail: "\(e.code): \(e.message)") { d in
                d.reasonCode = e.code.rawValue
                d.reasonMessage = e.message
                d.reasonLocation = e.location?.description
                d.duplicateOf = dup?.priorDrop
                d.assetsJson = assets.json
            }
        }
        ctx.wakeup.ring()
        return true
    }

    /// Every target already has this content: the drop is a duplicate of `priorDrop`.
    struct DuplicateDrop: Error {
        var error: OmniError
        var priorDrop: String
    }

    struct Outcome {
        var sha256: String
        var bytes: Int64
        var manifestJson: String
        var probeJson: String
        var deliveries: [DeliveryRecord]
        var summary: String
    }

    func validate(_ drop: DropRecord, assets: AssetList) async throws -> Outcome {
        // 1. The sidecar, or the pipeline's policy when there is none.
        var manifest = Manifest()
        var refLocation = drop.sidecarPath.map { SourceLocation(file: $0) }
        let sidecarDir = drop.sidecarPath.map { ($0 as NSString).deletingLastPathComponent } ?? ""
        if let s = drop.sidecarPath {
            if ClipList.isClipList(s) {
                let list = try ClipList.load(path: ctx.inboxPath(s), displayName: s)
                guard let i = drop.manifestEntry, i < list.entries.count else {
                    throw OmniError(.invalidValue, "the clip list changed while it was being read; drop it again", at: refLocation)
                }
                manifest = list.entries[i].manifest
                refLocation = list.entries[i].location
                for c in list.entries[i].candidates.prefix(1) { try InboxPaths.checkReference(c, from: sidecarDir, at: refLocation) }
            } else {
                manifest = try Manifest.load(path: ctx.inboxPath(s), displayName: s)
                if let c = manifest.clip { try InboxPaths.checkReference(c, from: sidecarDir, at: refLocation) }
            }
        } else if ctx.config.sidecar.missing == .fail {
            throw OmniError(.missingSidecar,
                "no sidecar (\(drop.stem).yaml, .yml or .json) arrived within \(Int(ctx.config.sidecar.grace.seconds)) s of the clip, and this pipeline requires one",
                at: drop.clipPath.map { SourceLocation(file: $0) })
        }
        guard let clipRel = drop.clipPath else {
            throw OmniError(.missingClip,
                "the sidecar's clip \(manifest.clip.map { "'\($0)'" } ?? "(\(drop.stem).mp4 or another video with the same name)") did not arrive within \(Int(ctx.config.sidecar.grace.seconds)) s",
                at: refLocation)
        }

        // 2. The clip must really be inside the inbox (a symlink may point anywhere).
        let clipPath = try InboxPaths.resolveInside(inbox: ctx.paths.inbox.path, relative: clipRel)

        // 3. Identity and, when given, the checksum — before anything else reads the file.
        let hash: (hex: String, bytes: Int64)
        do { hash = try FileHashing.sha256(path: clipPath) } catch {
            throw OmniError(.unreadable, "\(clipRel) cannot be read (permission denied, or a link to a file that does not exist)",
                            at: SourceLocation(file: clipRel), underlying: error)
        }
        if hash.bytes == 0 { throw OmniError(.emptyFile, "\(clipRel) is empty (0 bytes)", at: SourceLocation(file: clipRel)) }
        if let expected = manifest.sha256, expected != hash.hex {
            throw OmniError(.checksumMismatch, "\(clipRel) has sha256 \(hash.hex), the sidecar says \(expected): the file is damaged or incomplete",
                            at: drop.sidecarPath.map { SourceLocation(file: $0) })
        }

        // 4. One probe.
        let info = try await Prober(tools: ctx.tools).probe(path: clipPath, displayName: clipRel)

        // 5. The cover, if asked for: inside the inbox, an image by content, or a time inside the clip.
        if let f = manifest.coverFile {
            try InboxPaths.checkReference(f, from: sidecarDir, at: refLocation)
            let rel = AssembleStage.join(sidecarDir, f)
            let abs = try InboxPaths.resolveInside(inbox: ctx.paths.inbox.path, relative: rel)
            guard FileManager.default.fileExists(atPath: abs) else {
                throw OmniError(.missingClip, "the cover image '\(f)' is not in the inbox", at: refLocation)
            }
            assets.add(rel)
            _ = try await CoverMaker(tools: ctx.tools).checkImage(path: abs, displayName: rel)
        }
        if let ms = manifest.coverAtMs, Double(ms) > info.durationS * 1000 {
            throw OmniError(.invalidValue, "cover at_ms \(ms) is past the end of the clip (\(Planner.fmt(info.durationS)) s)", at: refLocation)
        }

        // 6. Targets.
        let names = manifest.targets ?? ctx.config.targets.map(\.name)
        var targets: [TargetConfig] = []
        for n in names {
            guard let t = ctx.config.target(named: n) else {
                var msg = "target '\(n)' is not defined in pipeline \(ctx.config.name)"
                if let g = DidYouMean.suggest(n, among: ctx.config.targets.map(\.name)) { msg += "; did you mean '\(g)'?" }
                throw OmniError(.unknownTarget, msg, at: drop.sidecarPath.map { SourceLocation(file: $0) })
            }
            targets.append(t)
        }

        // 7. Per target: metadata, plan, identity.
        let vars = templateVariables(drop: drop, clipRel: clipRel, manifest: manifest, info: info)
        let planner = Planner(ctx.config.convert)
        var deliveries: [DeliveryRecord] = []
        var duplicates: [DeliveryRecord] = []
        let now = ctx.now.timeIntervalSince1970
        for t in targets {
            guard let profile = ctx.profiles[t.profile] else {
                throw OmniError(.configInvalid, "target \(t.name) uses profile '\(t.profile)', which does not exist")
            }
            let meta = try metadata(for: t, manifest: manifest, vars: vars, profile: profile)
            if let adapter = ctx.adapters[t.name], var problem = adapter.preflight(meta) {
                problem.location = problem.location ?? drop.sidecarPath.map { SourceLocation(file: $0) }
                throw problem
            }
            let decision = planner.plan(info, for: profile)
            var d = DeliveryRecord(
                dropId: drop.id, target: t.name, platform: t.platform, account: t.account, profile: t.profile,
                state: decision.kind == .reject ? .failed : .planned, plan: decision.kind,
                planDetail: decision.reasons.isEmpty ? nil : decision.reasons.joined(separator: "; "),
                specKey: decision.spec?.key, metadataJson: String(decoding: try JSONCoding.encoder(pretty: false).encode(meta), as: UTF8.self),
                contentSha256: hash.hex, notBefore: nil, now: now)
            if let spec = decision.spec { d.planDetail = (d.planDetail ?? "") + " ⇒ " + Self.describe(spec) }
            d.specJson = decision.spec.flatMap { try? String(decoding: JSONCoding.encoder(pretty: false).encode($0), as: UTF8.self) }
            if decision.kind == .reject {
                d.errorCode = decision.rejectCode?.rawValue
                d.errorMessage = decision.rejectMessage
            }
            if !manifest.republish, let prior = try ctx.ledger.priorDelivery(contentSha256: hash.hex, target: t.name, excludingDrop: drop.id) {
                d.state = .cancelled
                d.errorCode = ReasonCode.duplicate.rawValue
                d.errorMessage = "already \(prior.state == .published ? "published" : "being published") by drop \(prior.dropId)" + (prior.remoteUrl.map { " at \($0)" } ?? "")
                duplicates.append(prior)
            }
            deliveries.append(d)
        }
        if let first = duplicates.first, duplicates.count == deliveries.count {
            throw DuplicateDrop(error: OmniError(.duplicate,
                "this clip (sha256 \(hash.hex.prefix(12))…) was already dropped as \(first.dropId) for \(deliveries.map(\.target).joined(separator: ", ")); set `republish: true` in the sidecar to post it again",
                at: drop.sidecarPath.map { SourceLocation(file: $0) } ?? SourceLocation(file: clipRel)), priorDrop: first.dropId)
        }
        if deliveries.allSatisfy({ $0.state == .failed }), let d = deliveries.first {
            throw OmniError(ReasonCode(d.errorCode ?? "rejected"), "\(d.target): \(d.errorMessage ?? "rejected")", at: SourceLocation(file: clipRel))
        }
        let v = info.video!
        let summary = "\(v.width)×\(v.height) \(v.codec) \(Planner.fmt(v.fps)) fps \(Planner.fmt(info.durationS)) s; "
            + deliveries.map { "\($0.target): \($0.state == .planned ? $0.plan.rawValue : "\($0.state.rawValue) (\($0.errorCode ?? ""))")" }.joined(separator: ", ")
        return Outcome(
            sha256: hash.hex, bytes: hash.bytes,
            manifestJson: String(decoding: try JSONCoding.encoder(pretty: false).encode(manifest), as: UTF8.self),
            probeJson: String(decoding: try JSONCoding.encoder(pretty: false).encode(info), as: UTF8.self),
            deliveries: deliveries, summary: summary)
    }

    static func describe(_ s: RenditionSpec) -> String {
        s.kind == .remux ? "remux" : "\(s.width)×\(s.height) h264\(s.fps.map { " \(Planner.fmt($0)) fps" } ?? "") (\(s.geometry.rawValue))"
    }

    func templateVariables(drop: DropRecord, clipRel: String, manifest: Manifest, info: MediaInfo) -> [String: String] {
        let df = DateFormatter()
        df.dateFormat = "yyyy-MM-dd"
        df.locale = Locale(identifier: "en_US_POSIX")
        var vars = manifest.fields
        vars["stem"] = drop.stem
        vars["filename"] = (clipRel as NSString).lastPathComponent
        vars["date"] = df.string(from: ctx.now)
        vars["duration"] = Planner.fmt(info.durationS.rounded())
        vars["width"] = String(info.video?.width ?? 0)
        vars["height"] = String(info.video?.height ?? 0)
        vars["pipeline"] = ctx.config.name
        return vars
    }

    /// Title, description, tags and privacy for one target: sidecar, then per-platform overrides,
    /// then pipeline defaults; templates rendered; text limits from the profile checked.
    func metadata(for t: TargetConfig, manifest: Manifest, vars: [String: String], profile: Profile) throws -> PublishMetadata {
        let o = manifest.overrides[t.platform] ?? [:]
        let titleField = o["title"].map { Field($0, at: manifest.title?.location) } ?? manifest.title ?? ctx.config.defaults.title ?? Field("{stem}")
        let descField = o["description"].map { Field($0, at: manifest.description?.location) } ?? manifest.description ?? ctx.config.defaults.description ?? Field("")
        let title = try Template.render(titleField, variables: vars)
        let description = try Template.render(descField, variables: vars)
        let tags = o["tags"].map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? manifest.tags ?? ctx.config.defaults.tags ?? []
        let privacy = try o["privacy"].map { p -> Privacy in
            guard let v = Privacy(rawValue: p) else { throw OmniError(.invalidValue, "overrides.\(t.platform).privacy '\(p)' is not one of \(Privacy.allCases.map(\.rawValue).joined(separator: ", "))") }
            return v
        } ?? manifest.privacy ?? ctx.config.defaults.privacy ?? .private
        var options = o
        for k in ["title", "description", "tags", "privacy"] { options[k] = nil }

        let text = profile.text
        if title.trimmingCharacters(in: .whitespaces).isEmpty, text.titleMax != nil {
            throw OmniError(.textInvalid, "\(t.name): the title is empty", at: titleField.location)
        }
        if let max = text.titleMax, title.count > max {
            throw OmniError(.textTooLong, "\(t.name): the title is \(title.count) characters; \(profile.name) allows \(max): \"\(title.prefix(40))…\"", at: titleField.location)
        }
        if let bad = text.titleForbidden, let c = title.first(where: { bad.contains($0) }) {
            throw OmniError(.textInvalid, "\(t.name): the title contains '\(c)', which \(profile.name) does not allow", at: titleField.location)
        }
        if let max = text.descriptionMaxBytes, description.utf8.count > max {
            throw OmniError(.textTooLong, "\(t.name): the description is \(description.utf8.count) bytes; \(profile.name) allows \(max)", at: descField.location)
        }
        if let bad = text.descriptionForbidden, let c = description.first(where: { bad.contains($0) }) {
            throw OmniError(.textInvalid, "\(t.name): the description contains '\(c)', which \(profile.name) does not allow", at: descField.location)
        }
        if let max = text.captionMax, (title + description).count > max {
            throw OmniError(.textTooLong, "\(t.name): the caption is \((title + description).count) characters; \(profile.name) allows \(max)", at: descField.location)
        }
        if let limit = text.tagsTotalMax {
            let total = tags.reduce(0) { $0 + $1.count + ($1.contains(" ") ? 2 : 0) } + max(0, tags.count - 1)
            if total > limit { throw OmniError(.textTooLong, "\(t.name): the tags add up to \(total) characters; \(profile.name) allows \(limit)") }
        }
        var meta = PublishMetadata(title: title, description: description, tags: tags, privacy: privacy, publishAt: manifest.publishAt, options: options)
        meta.coverAtMs = manifest.coverAtMs
        return meta
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
