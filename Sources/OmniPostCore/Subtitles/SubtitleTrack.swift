import Foundation

/// One subtitle track of a drop: a `.srt` or `.vtt` file beside the clip (`clip.en.srt`: the language
/// from the name) or listed in the sidecar's `subtitles:`.
package struct SubtitleTrack: Sendable, Codable, Equatable {
    /// The file, relative to the inbox.
    package var file: String
    /// A BCP-47 tag (`en`, `de`, `pt-BR`).
    package var language: String
    /// What the track is called where a platform shows a name (YouTube's `snippet.name`, Vimeo's `name`).
    package var name: String?
    package var location: SourceLocation?

    package init(file: String, language: String, name: String? = nil, location: SourceLocation? = nil) {
        self.file = file
        self.language = language
        self.name = name
        self.location = location
    }

    /// `clip.en.srt` beside `clip.mp4`: the language written between the clip's stem and the extension;
    /// nil when `path` is not a subtitle file of that stem (both inbox-relative, the stem without extension).
    package static func language(of path: String, stem: String) -> String? {
        guard SubtitleFile.format(of: path) != nil else { return nil }
        let base = (path as NSString).deletingPathExtension
        guard base.hasPrefix(stem + "."), PathText.parent(base) == PathText.parent(stem) else { return nil }
        let tag = String(base.dropFirst(stem.count + 1))
        return isLanguageTag(tag) ? tag : nil
    }

    /// A BCP-47 tag as people write one for subtitles: a 2–3 letter language, then subtags of 2–8
    /// letters or digits (`en`, `pt-BR`, `zh-Hant`, `es-419`).
    package static func isLanguageTag(_ tag: String) -> Bool {
        let parts = tag.split(separator: "-", omittingEmptySubsequences: false)
        guard let lang = parts.first, (2...3).contains(lang.count), lang.allSatisfy({ $0.isASCII && $0.isLetter }) else { return false }
        return parts.dropFirst().allSatisfy { p in (2...8).contains(p.count) && p.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }
    }

    /// The sidecar's `subtitles:`: `- clip.fr.vtt`, or `- {file: subs.vtt, language: fr, name: Français}`.
    /// Files are relative to the sidecar's folder (`dir`), as the clip and cover are.
    static func parseList(_ node: DocNode) throws -> [SubtitleTrack] {
        try node.sequence().map { entry in
            var file: String, language: String?, name: String?
            if case .some(let line) = try? entry.string() {
                file = line
            } else {
                let m = try entry.mapping(allowed: ["file", "language", "name"], what: "subtitle track (a file name, or {file, language, name})")
                guard let f = m["file"] else { throw entry.fail(.subtitlesInvalid, "a subtitle track needs `file:`") }
                file = try f.string()
                if let l = m["language"] {
                    language = try l.string()
                    if !isLanguageTag(language!) {
                        throw l.fail(.subtitlesInvalid, "'\(Excerpt.quote(language!, max: 20))' is not a language tag such as en, de or pt-BR")
                    }
                }
                name = try m["name"]?.string()
            }
            guard SubtitleFile.format(of: file) != nil else {
                throw entry.fail(.subtitlesInvalid, "a subtitle file is .srt or .vtt; '\(Excerpt.quote(file, max: 60))' is neither")
            }
            if language == nil {
                // `clip.fr.vtt`: the tag just before the extension.
                let base = (file as NSString).deletingPathExtension
                let tag = (base as NSString).pathExtension
                guard isLanguageTag(tag) else {
                    throw entry.fail(
                        .subtitlesInvalid, "the language of '\(Excerpt.quote(file, max: 60))' is not in its name (clip.en.srt); write {file: …, language: en}")
                }
                language = tag
            }
            return SubtitleTrack(file: file, language: language!, name: name, location: entry.location)
        }
    }
}
