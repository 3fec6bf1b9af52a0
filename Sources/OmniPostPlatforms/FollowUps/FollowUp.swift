import Foundation
import OmniPostCore

/// Something a delivery owes after its post exists: a subtitle track, a playlist entry, a first comment.
/// Each is made exactly once, like the post itself: its intent is kept before the request leaves, and an
/// intent found without its result (a kill, a lost answer) is settled by reading the platform back
/// (`FollowingUp.findFollowUp`) before anything is sent again.
package struct FollowUp: Sendable, Codable, Equatable {
    package enum Kind: String, Sendable, Codable, CaseIterable {
        case subtitles
        case playlist
        case firstComment = "first_comment"
    }

    package var kind: Kind
    /// Unique within its delivery, and what its intent is kept under (`subtitles:en`).
    package var key: String
    /// A subtitle track: the validated copy of the file (in the drop's work folder), its format, language and name.
    package var file: String?
    package var format: SubtitleFile.Format?
    package var language: String?
    package var name: String?
    /// A playlist: its id, or its name (`byName`), whether a missing one is made, and with what privacy.
    package var playlist: String?
    package var byName: Bool?
    package var createMissing: Bool?
    package var privacy: String?
    /// A first comment's text.
    package var text: String?

    package init(kind: Kind, key: String) {
        self.kind = kind
        self.key = key
    }

    /// A subtitle track to add, from the validated copy at `file`.
    package static func subtitles(file: String, format: SubtitleFile.Format, language: String, name: String?) -> FollowUp {
        var f = FollowUp(kind: .subtitles, key: "subtitles:\(language)")
        f.file = file
        f.format = format
        f.language = language
        f.name = name
        return f
    }

    /// The post added to a playlist, named by id or by name.
    package static func playlist(_ ref: PlaylistRef, privacy: String) -> FollowUp {
        var f = FollowUp(kind: .playlist, key: "playlist:" + (ref.id ?? "name:" + (ref.name ?? "")))
        f.playlist = ref.id ?? ref.name
        f.byName = ref.id == nil
        f.createMissing = ref.createMissing
        f.privacy = privacy
        return f
    }

    /// A comment under the post, right after it.
    package static func firstComment(_ text: String) -> FollowUp {
        var f = FollowUp(kind: .firstComment, key: "first_comment")
        f.text = text
        return f
    }

    /// The track's cues, read again from the validated copy (a follow-up may run long after validation).
    package func subtitleFile() throws -> SubtitleFile {
        guard let file, let format else { throw DeliveryError(.permanent, .subtitlesInvalid, "\(key) names no subtitle file") }
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw DeliveryError(.permanent, .missingFile, "the subtitle file for \(key) (\(file)) is gone")
        }
        return try SubtitleFile.parse(text, format: format, file: file)
    }

    /// What an adapter answers for a kind its descriptor does not list (never asked of it by a pipeline).
    package func notTaken(by platform: String) -> DeliveryError {
        DeliveryError(.permanent, .rejectedByPlatform, "\(platform) takes no \(kind.rawValue) after a post")
    }

    /// A track's name where the platform shows one: the sidecar's, or its language.
    package var trackName: String { name ?? language ?? key }
}

/// An adapter whose platform takes follow-ups after a post (descriptor: `followUps`).
package protocol FollowingUp: PlatformAdapter {
    /// Whether the platform already holds `followUp` on `post` (made before a kill or a lost answer):
    /// its remote id, or nil when it is absent and may be made.
    func findFollowUp(_ followUp: FollowUp, of post: PublishOutcome) async throws -> String?
    /// Makes it; answers its remote id.
    func makeFollowUp(_ followUp: FollowUp, on post: PublishOutcome) async throws -> String
}

/// Where a delivery's follow-ups are kept (the ledger, in a pipeline).
package protocol FollowUpLog: Sendable {
    func state(of key: String) throws -> FollowUpState?
    /// Kept before the request leaves.
    func intend(_ followUp: FollowUp) throws
    func made(_ followUp: FollowUp, remoteId: String) throws
    func failed(_ followUp: FollowUp, why: String) throws
}

package enum FollowUpState: Sendable, Equatable {
    /// Asked for, its answer not kept: it may exist.
    case intended
    case made(remoteId: String)
    case failed(String)
}
