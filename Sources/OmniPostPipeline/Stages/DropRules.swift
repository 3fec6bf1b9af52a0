import Foundation
import OmniPostCore
import OmniPostMedia
import OmniPostPlatforms

/// What a drop's sidecar must meet against its pipeline before any byte of the clip matters: the targets
/// it names exist, its publish time can be kept, and for every target the metadata it makes (sidecar,
/// overrides, pipeline defaults; templates; text limits; control characters) passes the profile and the
/// adapter's preflight. The validate stage (`run`) and `omnipost check` both ask these rules — one copy —
/// so `check` passes only what `run` would take.
package struct DropRules: Sendable {
    package let config: PipelineConfig
    package let profiles: ProfileCatalog
    package let adapters: [String: any PlatformAdapter]

    package init(config: PipelineConfig, profiles: ProfileCatalog, adapters: [String: any PlatformAdapter]) {
        self.config = config
        self.profiles = profiles
        self.adapters = adapters
    }

    /// The targets a drop goes to: those its sidecar names, or all of the pipeline's.
    package func targets(for manifest: Manifest, at location: SourceLocation?) throws -> [TargetConfig] {
        try (manifest.targets ?? config.targets.map(\.name)).map { try target(named: $0, at: manifest.targetsLocation ?? location) }
    }

    func target(named n: String, at location: SourceLocation?) throws -> TargetConfig {
        guard let t = config.target(named: n) else {
            var msg = "target '\(Excerpt.quote(n))' is not defined in pipeline \(config.name)"
            if let g = DidYouMean.suggest(n, among: config.targets.map(\.name)) {
                msg += "; did you mean '\(g)'?"
            } else {
                msg += " (its targets: \(config.targets.map(\.name).joined(separator: ", ")))"
            }
            throw OmniError(.unknownTarget, msg, at: location)
        }
        return t
    }

    package func profile(of t: TargetConfig) throws -> Profile {
        guard let p = profiles[t.profile] else {
            throw OmniError(.configInvalid, "target \(t.name) uses profile '\(t.profile)', which does not exist")
        }
        return p
    }

    /// `publish_at` that can never be kept: `next_slot` without slots, a time past the horizon.
    package func checkPublishTime(_ m: Manifest, now: Date, at location: SourceLocation?) throws {
        if m.publishAtNextSlot, config.schedule.slots.isEmpty {
            throw OmniError(
                .noSlot, "publish_at: next_slot needs publishing slots, and pipeline \(config.name) has no `schedule: {zone, slots}`; give a time with a UTC offset instead",
                at: m.publishAtLocation ?? location)
        }
        if let at = m.publishAt, at.timeIntervalSince(now) > Self.scheduleHorizon {
            throw OmniError(
                .invalidValue,
                "publish_at \(isoStamp(at)) is more than \(Int(Self.scheduleHorizon / 86400)) days ahead; no platform schedules that far (YouTube and Facebook allow months), so the drop would never finish — choose a nearer time",
                at: m.publishAtLocation ?? location)
        }
    }

    /// The furthest ahead a post may be scheduled: a year, past what any platform we publish to schedules.
    package static let scheduleHorizon: Double = 366 * 86400

    /// The variables a title or description may use: the sidecar's fields, then what OmniPost knows.
    package static func variables(
        fields: [String: String], stem: String, filename: String, now: Date,
        durationS: Double, width: Int, height: Int, pipeline: String
    ) -> [String: String] {
        let df = DateFormatter()
        df.dateFormat = "yyyy-MM-dd"
        df.locale = Locale(identifier: "en_US_POSIX")
        var vars = fields
        vars["stem"] = stem
        vars["filename"] = filename
        vars["date"] = df.string(from: now)
        vars["duration"] = Planner.fmt(durationS.rounded())
        vars["width"] = String(width)
        vars["height"] = String(height)
        vars["pipeline"] = pipeline
        return vars
    }

    /// Title, description, tags and privacy for one target: sidecar, then per-platform overrides,
    /// then pipeline defaults; templates rendered; chapters written where the platform shows them; text
    /// limits from the profile checked.
    /// `durationS`: the clip's, once known (the last chapter must end inside it).
    package func metadata(for t: TargetConfig, manifest: Manifest, vars: [String: String], profile: Profile, durationS: Double? = nil) throws -> PublishMetadata {
        let (titleField, descField) = textFields(for: t, manifest: manifest)
        return try finish(
            try draft(for: t, manifest: manifest, vars: vars, profile: profile), for: t, manifest: manifest, profile: profile, durationS: durationS,
            titleAt: titleField.location, descriptionAt: descField.location)
    }

    /// Where a target's title and description come from: its override, the sidecar, the pipeline's defaults.
    func textFields(for t: TargetConfig, manifest: Manifest) -> (title: Field<String>, description: Field<String>) {
        let o = manifest.overrides[t.platform] ?? [:]
        let defaults = config.defaults
        let titleField = o["title"].map { Field($0, at: manifest.title?.location) } ?? manifest.title ?? defaults.title ?? Field("{stem}")
        let descField = o["description"].map { Field($0, at: manifest.description?.location) } ?? manifest.description ?? defaults.description ?? Field("")
        return (titleField, descField)
    }

    /// The target's metadata as the templates make it, before chapters and checks: what a language model
    /// is given as its draft (`ai:`).
    func draft(for t: TargetConfig, manifest: Manifest, vars: [String: String], profile: Profile) throws -> PublishMetadata {
        let o = manifest.overrides[t.platform] ?? [:]
        let defaults = config.defaults
        let (titleField, descField) = textFields(for: t, manifest: manifest)
        // A title is one line on every platform: line breaks and tabs in it (from a `{stem}` with a newline,
        // a pasted caption) become single spaces. Any other control character is refused below.
        let title = Self.oneLine(try Template.render(titleField, variables: vars))
        let description = try Template.render(descField, variables: vars)
        // A tag of nothing but spaces is no tag: not sent (`tags: ["", " "]` reached YouTube as two).
        let tags = (o["tags"].map { $0.split(separator: ",").map(String.init) } ?? manifest.tags ?? defaults.tags ?? [])
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let privacy =
            try o["privacy"].map { p -> Privacy in
                guard let v = Privacy(rawValue: p) else {
                    throw OmniError(.invalidValue, "overrides.\(t.platform).privacy '\(p)' is not one of \(Privacy.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return v
            } ?? manifest.privacy ?? defaults.privacy ?? .private
        var options = o
        for k in ["title", "description", "tags", "privacy"] { options[k] = nil }

        var meta = PublishMetadata(title: title, description: description, tags: tags, privacy: privacy, publishAt: manifest.publishAt, options: options)
        meta.coverAtMs = manifest.coverAtMs
        meta.text = profile.text
        return meta
    }

    /// A draft made final: the sidecar's chapters written into the description where the target's
    /// profile shows them (checked by its rules at their line), then every text check.
    func finish(
        _ draft: PublishMetadata, for t: TargetConfig, manifest: Manifest, profile: Profile, durationS: Double? = nil,
        titleAt: SourceLocation? = nil, descriptionAt: SourceLocation? = nil
    ) throws -> PublishMetadata {
        var meta = draft
        if let rule = profile.text.chapters, let chapters = manifest.chapters, !chapters.isEmpty {
            if let problem = rule.problem(chapters, durationS: durationS, platform: t.name, at: manifest.chaptersLocation) { throw problem }
            meta.description = ChapterRule.describe(meta.description, chapters)
        }
        try check(meta, for: t, profile: profile, titleAt: titleAt, descriptionAt: descriptionAt)
        return meta
    }

    /// The text of `meta` as `t`'s profile takes it, answered at the field's line where one is known.
    /// The templates' text and a language model's (`ai:`) pass the same checks.
    func check(_ meta: PublishMetadata, for t: TargetConfig, profile: Profile, titleAt: SourceLocation? = nil, descriptionAt: SourceLocation? = nil) throws {
        // Control characters (NUL, BEL, ESC sequences…) are refused, never published: no platform shows
        // them, some reject the request, and in a terminal or a report they act instead of showing.
        // Titles and tags allow none; descriptions and captions keep line breaks and tabs.
        try Self.refuseControls(meta.title, field: "title", target: t.name, allowed: [], at: titleAt)
        try Self.refuseControls(meta.description, field: "description", target: t.name, allowed: ["\n", "\r", "\t"], at: descriptionAt)
        for tag in meta.tags { try Self.refuseControls(tag, field: "tag", target: t.name, allowed: [], at: nil) }
        // The profile's text rules (limits with how each counts, the caption's composition): answered at
        // the field's line, and carried with the metadata so the adapter holds the upload to the same rules.
        if let p = profile.text.problem(title: meta.title, description: meta.description, tags: meta.tags) {
            let at: SourceLocation? =
                switch p.field {
                case .title: titleAt
                case .description: descriptionAt
                case .caption: descriptionAt ?? titleAt
                case .tags: nil
                }
            throw OmniError(p.code, "\(t.name): \(p.message)", at: at)
        }
    }

    /// The target's adapter refuses this metadata (a privacy the platform does not have, a caption past
    /// its limits): answered where the setting was written — `privacy:` in the sidecar or the pipeline's
    /// `defaults:` — or at the sidecar.
    package func preflight(_ t: TargetConfig, _ meta: PublishMetadata, manifest: Manifest, at location: SourceLocation?) throws {
        guard let adapter = adapters[t.name], var problem = adapter.preflight(meta) else { return }
        let privacyAt = manifest.overrides[t.platform]?["privacy"] != nil ? nil : manifest.privacyLocation ?? (manifest.privacy == nil ? config.defaults.privacyLocation : nil)
        problem.location = problem.location ?? (problem.message.hasPrefix("privacy ") ? privacyAt : nil) ?? location
        if !problem.message.hasPrefix(t.name) { problem.message = "\(t.name): " + problem.message }
        throw problem
    }

    /// Every problem `run` would find in this sidecar before reading its clip, each in its place — all of
    /// them, not the first: the targets it names, its publish time, and each target's metadata. `vars` stand
    /// in for the clip's own (`DropRules.variables` with the sidecar's stem).
    package func problems(of manifest: Manifest, vars: [String: String], now: Date, at location: SourceLocation?) -> [OmniError] {
        var found: [OmniError] = []
        func record(_ body: () throws -> Void) {
            do { try body() } catch let e as OmniError { found.append(e) } catch { found.append(OmniError.wrap(error)) }
        }
        found += PlatformRegistry.rules.problems(of: manifest, file: location?.file)
        record { try checkPublishTime(manifest, now: now, at: location) }
        for name in manifest.targets ?? config.targets.map(\.name) {
            record {
                let t = try target(named: name, at: manifest.targetsLocation ?? location)
                let meta = try metadata(for: t, manifest: manifest, vars: vars, profile: try profile(of: t))
                try preflight(t, meta, manifest: manifest, at: location)
            }
        }
        return found
    }

    /// Every line break Unicode has — U+2028 and U+2029, NEL, a vertical tab or form feed besides CR and
    /// LF (`Character.isNewline`) — and tabs become one space: U+2028 in a title went out as it was, a
    /// second line on a platform that shows one.
    static func oneLine(_ text: String) -> String {
        guard text.contains(where: { $0.isNewline || $0 == "\t" }) else { return text }
        return text.split(whereSeparator: { $0.isNewline || $0 == "\t" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
    }

    static func refuseControls(_ text: String, field: String, target: String, allowed: Set<Unicode.Scalar>, at location: SourceLocation?) throws {
        for (i, scalar) in text.unicodeScalars.enumerated() where Excerpt.isControl(scalar) && !allowed.contains(scalar) {
            let code = "U+" + String(format: "%04X", scalar.value)
            throw OmniError(
                .textInvalid,
                "\(target): the \(field) contains the control character \(code) at character \(i + 1) (\"\(Excerpt.quote(text, max: 40))\"); control characters are refused, not published — remove it\(allowed.isEmpty ? "" : " (line breaks and tabs are fine)")",
                at: location)
        }
    }
}
