import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPlatforms

extension ValidateStage {
    /// A subtitle track as validated: its language and name, and the copy of the bytes that were checked
    /// (in the drop's work folder), which is what goes out — a file changed in the inbox afterwards is not.
    struct CheckedTrack {
        var language: String
        var name: String?
        var format: SubtitleFile.Format
        var copy: String
        var source: String
    }

    /// 3b. The drop's subtitle tracks — the files beside the clip (`clip.en.srt`) that came with the drop,
    /// and those `subtitles:` lists — each read and its cue timing checked (`subtitles_invalid` at the
    /// file's line and column); one language once.
    func checkSubtitles(_ drop: DropRecord, sidecar: Sidecar, assets: AssetList) async throws -> [CheckedTrack] {
        var tracks: [SubtitleTrack] = []
        if let clip = drop.clipPath {
            let stem = (clip as NSString).deletingPathExtension
            for f in try ctx.ledger.files(ofDrop: drop.id) where f.role == .other {
                guard let lang = SubtitleTrack.language(of: f.path, stem: stem) else { continue }
                tracks.append(SubtitleTrack(file: f.path, language: lang))
                // An original of the drop: filed where the drop goes, accepted or not.
                assets.add(f.path)
            }
        }
        for t in sidecar.manifest.subtitles ?? [] {
            _ = try assetPath(t.file, dir: sidecar.dir, at: t.location ?? sidecar.location, assets: assets, what: "subtitle file")
            let rel = AssembleStage.join(sidecar.dir, t.file)
            // Listed and beside the clip: the list's language and name stand.
            tracks.removeAll { $0.file == rel }
            tracks.append(SubtitleTrack(file: rel, language: t.language, name: t.name, location: t.location))
        }
        var seen: [String: String] = [:]
        var out: [CheckedTrack] = []
        for t in tracks.sorted(by: { $0.file < $1.file }) {
            if let other = seen[t.language.lowercased()] {
                throw OmniError(
                    .subtitlesInvalid, "two subtitle tracks are in \(t.language): \(other) and \(t.file); a platform keeps one track per language",
                    at: t.location ?? SourceLocation(file: t.file))
            }
            seen[t.language.lowercased()] = t.file
            let abs = try InboxPaths.resolveInside(inbox: ctx.paths.inbox.path, relative: t.file)
            let file = try await StallGuard.run("reading \(t.file)", at: SourceLocation(file: t.file)) { _ in
                try SubtitleFile.load(path: abs, displayName: t.file)
            }
            let dir = ctx.paths.work.appendingPathComponent(drop.id).appendingPathComponent("subtitles")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let copy = dir.appendingPathComponent("\(t.language).\(file.format.rawValue)")
            try SafeFiles.writeAtomically(Data(file.source.utf8), to: copy)
            out.append(CheckedTrack(language: t.language, name: t.name, format: file.format, copy: copy.path, source: t.file))
        }
        return out
    }

    /// What a target gets of the tracks: each as a follow-up where its platform takes subtitle tracks.
    static func subtitleFollowUps(_ tracks: [CheckedTrack], platform: String) -> [FollowUp] {
        guard PlatformRegistry.descriptor(platform)?.followUps.contains(.subtitles) == true else { return [] }
        return tracks.map { FollowUp.subtitles(file: $0.copy, format: $0.format, language: $0.language, name: $0.name) }
    }

    /// Whether this target burns the first track into its picture, and why (the plan's words); nil: it
    /// does not. Its own override (`overrides: {tiktok: {burn_subtitles: true}}`, or `false`) decides for
    /// it alone; otherwise the sidecar's `burn_subtitles: true` burns for each target that takes no track.
    static func burnsSubtitles(_ manifest: Manifest, platform: String, options: [String: String], tracks: [CheckedTrack], profile: String) -> String? {
        guard !tracks.isEmpty else { return nil }
        if let own = options["burn_subtitles"]?.lowercased() {
            return own == "true" ? "overrides.\(platform).burn_subtitles: true" : nil
        }
        let takesTracks = PlatformRegistry.descriptor(platform)?.followUps.contains(.subtitles) == true
        return manifest.burnSubtitles == true && !takesTracks ? "burn_subtitles: \(profile) takes no subtitle track" : nil
    }

    /// What a target gets of `playlists:`: an entry per playlist where its platform has them.
    static func playlistFollowUps(_ manifest: Manifest, platform: String, privacy: String) -> [FollowUp] {
        guard PlatformRegistry.descriptor(platform)?.followUps.contains(.playlist) == true else { return [] }
        return (manifest.playlists ?? []).map { FollowUp.playlist($0, privacy: privacy) }
    }

    /// The sidecar's `first_comment:` where the platform takes a comment under a post.
    /// A target's own (`overrides: {youtube: {first_comment: …}}`) comes before the sidecar's. It is held
    /// to the profile's `comment:` limit here, at the line that wrote it, not discovered after the post.
    static func commentFollowUps(_ manifest: Manifest, platform: String, override: String?, rules: TextRules, at fallback: SourceLocation?) throws -> [FollowUp] {
        guard PlatformRegistry.descriptor(platform)?.followUps.contains(.firstComment) == true,
            let text = override ?? manifest.firstComment?.value, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        else { return [] }
        if let p = rules.commentProblem(text) {
            let at = override != nil ? manifest.overrideLocations?["\(platform).first_comment"] : manifest.firstComment?.location
            throw OmniError(p.code, p.message, at: at ?? fallback)
        }
        return [.firstComment(text)]
    }
}
