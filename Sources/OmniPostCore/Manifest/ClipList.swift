import Foundation

/// A manifest that lists several clips: our `*.manifest.yaml|json` or the clipper service's
/// `clips_metadata.json` (seed 003). Each entry becomes one drop with its own merged `Manifest`.
package struct ClipList: Sendable {
    package struct Entry: Sendable {
        /// Paths to try for the clip, relative to the manifest's folder, in order.
        package var candidates: [String]
        package var manifest: Manifest
        package var location: SourceLocation
    }
    package var entries: [Entry]

    /// Entries one clip list may hold unless the pipeline says otherwise (`sidecar.max_list_entries`).
    /// Every entry becomes a drop that waits its grace: a list of thousands whose clips never come would
    /// be thousands of rejections, so one beyond the cap fails the whole list, at that entry's line.
    package static let defaultMaxEntries = 500

    package static func isClipList(_ relPath: String) -> Bool {
        let name = (relPath as NSString).lastPathComponent.lowercased()
        return name == "clips_metadata.json" || name.hasSuffix(".manifest.yaml") || name.hasSuffix(".manifest.yml") || name.hasSuffix(".manifest.json")
    }

    package static func load(path: String, displayName: String, maxEntries: Int = defaultMaxEntries) throws -> ClipList {
        let doc = try YAMLDocument.load(
            path: path, displayName: displayName, maxBytes: Manifest.maxBytes,
            syntaxCode: .manifestSyntax, invalidCode: .invalidValue)
        if (displayName as NSString).lastPathComponent.lowercased() == "clips_metadata.json" {
            return try parseClipper(doc, maxEntries: maxEntries)
        }
        return try parseList(doc, maxEntries: maxEntries)
    }

    /// Every problem of a clip list at once, for `omnipost check`: each entry is read even when one before it is wrong.
    package static func check(path: String, displayName: String, maxEntries: Int = defaultMaxEntries) -> (list: ClipList?, problems: [OmniError]) {
        do {
            let problems = ProblemList()
            let doc = try YAMLDocument.load(
                path: path, displayName: displayName, maxBytes: Manifest.maxBytes,
                syntaxCode: .manifestSyntax, invalidCode: .invalidValue
            ).collecting(into: problems)
            let isClipper = (displayName as NSString).lastPathComponent.lowercased() == "clips_metadata.json"
            var list: ClipList?
            try doc.collect { list = isClipper ? try parseClipper(doc, maxEntries: maxEntries) : try parseList(doc, maxEntries: maxEntries) }
            return (problems.all.isEmpty ? list : nil, problems.all)
        } catch let e as OmniError {
            return (nil, [e])
        } catch {
            return (nil, [OmniError.wrap(error)])
        }
    }

    package static func parse(text: String, file: String, maxEntries: Int = defaultMaxEntries) throws -> ClipList {
        let doc = try YAMLDocument.parse(text, file: file, syntaxCode: .manifestSyntax, invalidCode: .invalidValue)
        return (file as NSString).lastPathComponent.lowercased() == "clips_metadata.json"
            ? try parseClipper(doc, maxEntries: maxEntries) : try parseList(doc, maxEntries: maxEntries)
    }

    /// The entries of `clips`, refusing the first one past the cap (before reading any of the rest).
    static func capped(_ clips: DocNode, maxEntries: Int) throws -> [DocNode] {
        let nodes = try clips.sequence()
        if nodes.count > maxEntries {
            throw nodes[maxEntries].fail(
                .manifestTooLarge,
                "this clip list has \(nodes.count) entries; a list may have at most \(maxEntries) (sidecar.max_list_entries), so none of it was used — split it into lists of \(maxEntries) or fewer"
            )
        }
        return nodes
    }

    /// Ours: `defaults:` (any sidecar key) merged under each `clips:` entry (any sidecar key; `clip:` required).
    static func parseList(_ doc: DocNode, maxEntries: Int) throws -> ClipList {
        let top = try doc.mapping(allowed: ["version", "defaults", "fields", "clips"], what: "clip-list manifest")
        if let v = top["version"], try v.int() != 1 { throw v.fail("only version 1 is understood") }
        let defaults = try top["defaults"].map { try Manifest.parse($0) } ?? Manifest()
        var shared: [String: String] = [:]
        for (k, v) in try top["fields"]?.mapping() ?? [:] { shared[k] = try v.string() }
        guard let clips = top["clips"] else { throw doc.fail("a clip-list manifest needs `clips:`") }
        var entries: [Entry] = []
        for node in try capped(clips, maxEntries: maxEntries) {
            try doc.collect {
                var m = try Manifest.parse(node)
                guard let clip = m.clip else { throw node.fail("each entry under `clips:` needs `clip:`") }
                m = m.merged(over: defaults)
                m.fields = shared.merging(defaults.fields) { $1 }.merging(m.fields) { $1 }
                entries.append(Entry(candidates: [clip], manifest: m, location: node.location))
            }
        }
        if entries.isEmpty, doc.problems?.all.isEmpty ?? true { throw clips.fail("`clips:` is empty") }
        return ClipList(entries: entries)
    }

    /// The clipper format, exactly as seed 003 writes it: `video_id`, `clips[]` with `clip_id`, `filename`,
    /// `path`, `duration`, `score`, `aspect_ratio`. Every value is available to templates; titles and
    /// descriptions come from the pipeline's defaults (the clipper has none of its own).
    static func parseClipper(_ doc: DocNode, maxEntries: Int) throws -> ClipList {
        let top = try doc.mapping(allowed: ["video_id", "clips"], what: "clips_metadata mapping")
        guard let clips = top["clips"] else { throw doc.fail("clips_metadata.json needs `clips`") }
        let videoID = try top["video_id"]?.string()
        var entries: [Entry] = []
        for node in try capped(clips, maxEntries: maxEntries) {
            try doc.collect {
                let e = try node.mapping(allowed: ["clip_id", "filename", "path", "duration", "score", "aspect_ratio"], what: "clip entry")
                guard let filename = try e["filename"]?.string() else { throw node.fail("a clip entry needs `filename`") }
                var m = Manifest()
                m.clip = filename
                if let videoID { m.fields["video_id"] = videoID }
                for (k, v) in e { m.fields[k] = try v.string() }
                var candidates = [filename]
                if let p = try e["path"]?.string() {
                    candidates.append(p)
                    if !p.hasSuffix(filename) { candidates.append(p + "/" + filename) }
                }
                entries.append(Entry(candidates: candidates, manifest: m, location: node.location))
            }
        }
        if entries.isEmpty, doc.problems?.all.isEmpty ?? true { throw clips.fail("`clips` is empty") }
        return ClipList(entries: entries)
    }
}

extension Manifest {
    /// This manifest with `base` filling what it leaves out.
    func merged(over base: Manifest) -> Manifest {
        var m = self
        m.title = m.title ?? base.title
        m.description = m.description ?? base.description
        m.tags = m.tags ?? base.tags
        if m.privacy == nil { (m.privacy, m.privacyLocation) = (base.privacy, base.privacyLocation) }
        if m.publishAt == nil && !m.publishAtNextSlot {
            m.publishAt = base.publishAt
            m.publishAtNextSlot = base.publishAtNextSlot
            m.publishAtLocation = base.publishAtLocation
        }
        m.priority = m.priority != 0 ? m.priority : base.priority
        if m.targets == nil { (m.targets, m.targetsLocation) = (base.targets, base.targetsLocation) }
        m.overrides = base.overrides.merging(m.overrides) { $0.merging($1) { $1 } }
        if let at = base.overrideLocations { m.overrideLocations = at.merging(m.overrideLocations ?? [:]) { $1 } }
        m.coverAtMs = m.coverAtMs ?? base.coverAtMs
        m.coverFile = m.coverFile ?? base.coverFile
        m.republish = m.republish || base.republish
        return m
    }
}
