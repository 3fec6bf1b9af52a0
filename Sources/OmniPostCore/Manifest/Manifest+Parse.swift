import Foundation

extension Manifest {
    package static let keys = [
        "version", "clip", "title", "description", "tags", "privacy", "publish_at", "targets",
        "overrides", "cover", "sha256", "republish", "fields", "priority", "images", "image_seconds", "crossfade", "audio", "ai", "chapters", "approval",
        "subtitles", "burn_subtitles", "playlists", "first_comment"
    ]

    /// The largest sidecar we read; a bigger one is refused unread.
    package static let maxBytes = 1 << 20

    package static func load(path: String, displayName: String) throws -> Manifest {
        let doc = try YAMLDocument.load(
            path: path, displayName: displayName, maxBytes: maxBytes, syntaxCode: .manifestSyntax, invalidCode: .invalidValue)
        return try parse(doc)
    }

    /// A sidecar's bytes already read (at most `maxBytes`), parsed as `load(path:)` parses the file.
    package static func load(data: Data, displayName: String) throws -> Manifest {
        try parse(YAMLDocument.load(data: data, displayName: displayName, syntaxCode: .manifestSyntax, invalidCode: .invalidValue))
    }

    package static func parse(text: String, file: String) throws -> Manifest {
        try parse(YAMLDocument.parse(text, file: file, syntaxCode: .manifestSyntax, invalidCode: .invalidValue))
    }

    /// Every problem of a sidecar at once, for `omnipost check`: the manifest as far as it reads (nil when
    /// the file does not parse at all) and each problem at its place.
    package static func check(path: String, displayName: String) -> (manifest: Manifest?, problems: [OmniError]) {
        do {
            let list = ProblemList()
            let doc = try YAMLDocument.load(
                path: path, displayName: displayName, maxBytes: maxBytes, syntaxCode: .manifestSyntax, invalidCode: .invalidValue)
            let m = try parse(doc.collecting(into: list))
            return (m, list.all)
        } catch let e as OmniError {
            return (nil, [e])
        } catch {
            return (nil, [OmniError.wrap(error)])
        }
    }

    static func parse(_ doc: DocNode) throws -> Manifest {
        let m = try doc.mapping(allowed: keys, what: "sidecar mapping")
        var out = Manifest()
        // Each key is read on its own: when collecting (`check`), one bad value does not hide the next.
        func read(_ key: String, _ body: (DocNode) throws -> Void) throws {
            guard let v = m[key] else { return }
            try doc.collect { try body(v) }
        }
        try read("version") { v in if try v.int() != 1 { throw v.fail("only version 1 is understood") } }
        try read("clip") { v in out.clip = try v.string() }
        try read("title") { v in out.title = Field(try v.string(), at: v.location) }
        try read("description") { v in out.description = Field(try v.string(), at: v.location) }
        try read("tags") { v in out.tags = try v.stringList() }
        try read("ai") { v in out.ai = try AIAsk.parse(v) }
        try read("chapters") { v in
            out.chapters = try Chapter.parseList(v)
            out.chaptersLocation = v.location
        }
        try read("subtitles") { v in out.subtitles = try SubtitleTrack.parseList(v) }
        try read("burn_subtitles") { v in out.burnSubtitles = try v.bool() }
        try read("playlists") { v in out.playlists = try PlaylistRef.parseList(v) }
        try read("first_comment") { v in
            let text = try v.string()
            if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw v.fail("first_comment is empty; leave the key out for no comment") }
            out.firstComment = Field(text, at: v.location)
        }
        try read("privacy") { v in
            out.privacy = Privacy(rawValue: try v.oneOf(Privacy.allCases.map(\.rawValue)))
            out.privacyLocation = v.location
        }
        try read("publish_at") { v in
            let text = try v.string()
            out.publishAtLocation = v.location
            if text == "next_slot" {
                // Which slot depends on the pipeline's `schedule:`; the validate stage picks it.
                out.publishAtNextSlot = true
            } else if let date = ISO8601Parsing.date(from: text) {
                out.publishAt = date
            } else {
                throw v.fail(
                    "publish_at must be next_slot or a time with a UTC offset or a zone, e.g. 2026-12-01T18:00:00+01:00 or 2026-12-01T18:00 Europe/Berlin; found '\(text)'")
            }
        }
        try read("priority") { v in
            if let n = Int(try v.string()) {
                out.priority = n
            } else {
                out.priority = Manifest.priorityWords[try v.oneOf(["high", "normal", "low"])]!
            }
        }
        try read("targets") { v in
            let names = try v.stringList()
            if names.isEmpty {
                throw v.fail(.noTargets, "targets is empty, so there is nothing to publish to; name at least one target, or leave the key out to use the pipeline's targets")
            }
            var seen = Set<String>()
            for n in names where !seen.insert(n).inserted {
                throw v.fail(.duplicateTarget, "target '\(Excerpt.quote(n))' is listed twice; each target takes a drop once")
            }
            out.targets = names
            out.targetsLocation = v.location
        }
        try read("overrides") { v in
            // Which platforms and keys exist, and what each key may hold, is the platforms' to say
            // (`PlatformRules.problems`, from their descriptors): here only the shape is read, with where each was written.
            var at: [String: SourceLocation] = [:]
            for (platform, node) in try v.mapping() {
                at[platform] = node.location
                var values: [String: String] = [:]
                for (k, val) in try node.mapping() {
                    try doc.collect {
                        if case .sequence = val.node { values[k] = try val.stringList().joined(separator: ",") } else { values[k] = try val.string() }
                        at[platform + "." + k] = val.location
                    }
                }
                out.overrides[platform] = values
            }
            out.overrideLocations = at
        }
        try read("cover") { v in
            let c = try v.mapping(allowed: ["at_ms", "file"])
            if let a = c["at_ms"] {
                let ms = try a.int()
                if ms < 0 { throw a.fail("at_ms cannot be negative") }
                out.coverAtMs = ms
            }
            if let f = c["file"] { out.coverFile = try f.string() }
            if out.coverAtMs != nil, out.coverFile != nil { throw v.fail("cover takes either at_ms or file, not both") }
        }
        try read("sha256") { v in
            let s = try v.string().lowercased()
            guard s.count == 64, s.allSatisfy({ $0.isHexDigit }) else { throw v.fail("sha256 must be 64 hexadecimal digits") }
            out.sha256 = s
        }
        try read("republish") { v in out.republish = try v.bool() }
        try read("approval") { v in
            // Only a stricter word: a sidecar may ask a person to look, never waive a pipeline's rule.
            guard try v.oneOf(["required"]) == "required" else { return }
            out.approvalRequired = true
        }
        try read("fields") { v in
            for (k, val) in try v.mapping() { try doc.collect { out.fields[k] = try val.string() } }
        }
        try doc.collect { out.slideshow = try parseSlideshow(m) }
        try doc.collect { try checkBounds(out, m) }
        return out
    }

    /// Bounds on what one sidecar can make the ledger keep, whatever aliases or repetition expand to.
    package static let maxFieldBytes = 64 * 1024
    package static let maxTags = 500
    package static let maxFields = 200

    static func checkBounds(_ out: Manifest, _ m: [String: DocNode]) throws {
        for (key, text) in [("title", out.title?.value), ("description", out.description?.value)] {
            if let text, text.utf8.count > maxFieldBytes, let node = m[key] {
                throw node.fail(.manifestTooLarge, "\(key) is \(text.utf8.count) bytes; a sidecar field may hold at most \(maxFieldBytes)")
            }
        }
        if let tags = out.tags, let node = m["tags"] {
            if tags.count > maxTags { throw node.fail(.manifestTooLarge, "tags has \(tags.count) entries; at most \(maxTags) are kept") }
            let total = tags.reduce(0) { $0 + $1.utf8.count }
            if total > maxFieldBytes { throw node.fail(.manifestTooLarge, "tags add up to \(total) bytes; at most \(maxFieldBytes)") }
        }
        if let node = m["fields"] {
            if out.fields.count > maxFields { throw node.fail(.manifestTooLarge, "fields has \(out.fields.count) entries; at most \(maxFields)") }
            if let (k, v) = out.fields.first(where: { $0.value.utf8.count > maxFieldBytes }) {
                throw node.fail(.manifestTooLarge, "fields.\(Excerpt.quote(k)) is \(v.utf8.count) bytes; at most \(maxFieldBytes)")
            }
        }
    }
}
