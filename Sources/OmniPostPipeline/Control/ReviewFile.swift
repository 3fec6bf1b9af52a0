import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

/// `outbox/review/<drop>.yaml`: a drop waiting for approval, as a file a person reviews in the file manager
/// they already use (issue 29). Its comments say what would go out per target; its fields are the text
/// to publish, editable. Moved into `outbox/review/approved/` it approves the drop (with any edits, checked
/// again against every target's rules); into `outbox/review/rejected/` it rejects it. What became of it
/// is written beside it: `<drop>.done.txt` or `<drop>.refused.txt`.
enum ReviewFile {
    static func folder(_ paths: PipelinePaths) -> URL { paths.outbox.appendingPathComponent("review") }
    static func url(_ dropId: String, _ paths: PipelinePaths) -> URL { folder(paths).appendingPathComponent("\(dropId).yaml") }

    /// Writes the review file of a drop that waits (nothing when it does not).
    static func write(dropId: String, ctx: PipelineContext) {
        guard let drop = try? ctx.ledger.drop(dropId), let held = try? ctx.ledger.awaitingApproval(dropId: dropId), let first = held.first,
            let meta = try? first.metadata
        else { return }
        var lines = [
            "# OmniPost review: drop \(dropId) (\([drop.clipPath, drop.sidecarPath].compactMap { $0 }.joined(separator: " + ")))",
            "# Move this file into review/approved/ to publish it, or into review/rejected/ to stop it.",
            "# Before approving you may edit title, description, tags and publish_at below (every target gets the",
            "# edit, checked again against its rules), or shorten `targets:` to send fewer. Nothing is sent before.",
            "#",
            "# What would go out:"
        ]
        for d in held {
            let m = try? d.metadata
            lines.append("#   \(d.target): \(d.plan.rawValue)\(d.planDetail.map { " (\($0))" } ?? ""); privacy \(m?.privacy.rawValue ?? "?")")
            if let m {
                lines.append("#     title: \(Self.oneLine(m.title))")
                if !m.description.isEmpty { lines.append("#     description: \(Self.oneLine(m.description))") }
                if !m.tags.isEmpty { lines.append("#     tags: \(m.tags.joined(separator: ", "))") }
                if let at = m.publishAt { lines.append("#     appears at \(isoStamp(at))") }
            }
            if let s = d.scheduledAt, m?.publishAt == nil { lines.append("#     goes out at \(isoStamp(s))") }
        }
        lines.append("title: \(YAMLText.quote(meta.title))")
        lines.append("description: \(YAMLText.quote(meta.description))")
        lines.append("tags: [\(meta.tags.map(YAMLText.quote).joined(separator: ", "))]")
        lines.append("targets: [\(held.map { YAMLText.quote($0.target) }.joined(separator: ", "))]")
        do {
            try FileManager.default.createDirectory(at: folder(ctx.paths), withIntermediateDirectories: true)
            try SafeFiles.writeAtomically(Data((lines.joined(separator: "\n") + "\n").utf8), to: url(dropId, ctx.paths))
        } catch {
            ctx.logger.warning("could not write a drop's review file", metadata: ["omnipost.drop": "\(dropId)", "error": "\(error)"])
        }
    }

    static func oneLine(_ s: String) -> String { TerminalText.escape(s.replacingOccurrences(of: "\n", with: " ⏎ ")) }

    /// The edits a moved review file asks for: each field that differs from what the file was written with.
    static func edits(_ file: URL, dropId: String, ledger: Ledger) throws -> ApprovalEdits {
        let m = try Manifest.load(path: file.path, displayName: "review/approved/\(file.lastPathComponent)")
        let held = try ledger.awaitingApproval(dropId: dropId)
        guard let first = held.first else { throw OmniError(.invalidValue, "drop \(dropId) is not waiting for approval") }
        let meta = try first.metadata
        var e = ApprovalEdits()
        if let t = m.title?.value, t != meta.title { e.title = t }
        if let d = m.description?.value, d != meta.description { e.description = d }
        if let tags = m.tags, tags != meta.tags { e.tags = tags }
        if let at = m.publishAt { e.publishAt = at }
        if let targets = m.targets, Set(targets) != Set(held.map(\.target)) { e.targets = targets }
        return e
    }
}

/// Quoting for the review file's one-line YAML values.
enum YAMLText {
    static func quote(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if ch.value < 0x20 || ch.value == 0x7F { out += String(format: "\\x%02X", ch.value) } else { out.unicodeScalars.append(ch) }
            }
        }
        return out + "\""
    }
}
